"""A small runner for the vendored xdoctest-style doctests (``>>>`` on every
source line, ``want`` lines after), doing what ``xdoctest`` does with them:

* each doctest runs in a fresh copy of its reference module's globals (the
  modules' own imports: ``np``, ``ub``, ``kwimage``, ``kwarray``, ...);
* the source is cut into parts at its ``want`` blocks; each part's printed
  output (and the value of a trailing expression) is compared with its
  want, ``...`` matching anything and whitespace normalized; a want that is
  only ``...`` matches everything;
* ``# xdoctest: +REQUIRES(--show)`` or ``+SKIP`` ends the test there (the
  rest only draws); ``+IGNORE_WANT`` turns off the comparison after it.
"""
import ast
import contextlib
import doctest
import io
import re


def _module_globals(mod):
    import itertools as it
    import warnings

    import kwarray
    import kwcoco
    import kwimage
    import numpy as np
    import ubelt as ub
    g = {'__name__': f'ndsampler_reference_{mod}', 'ub': ub, 'np': np, 'kwimage': kwimage}
    if mod == 'coco_sampler':
        g.update(kwcoco=kwcoco, warnings=warnings)
    else:
        g.update(kwarray=kwarray, it=it)
    return g


def _parts(text):
    """[(source, want or None, check)] of an xdoctest text."""
    parts, src, want, check, stop = [], [], [], True, False
    for line in text.splitlines():
        if stop:
            break
        if line.startswith('>>>'):
            code = line[4:] if line.startswith('>>> ') else line[3:]
            directive = re.search(r'#\s*xdoctest:\s*\+(\w+)', code)
            if directive and directive.group(1) in ('REQUIRES', 'SKIP') and \
                    code.strip().startswith('#'):
                stop = True
                continue
            if want:
                parts.append(('\n'.join(src), '\n'.join(want), check))
                src, want = [], []
            if directive and directive.group(1) == 'IGNORE_WANT':
                check = False
            src.append(code)
        elif src:  # text before the first source line is not a want
            want.append(line)
    if src or want:
        parts.append(('\n'.join(src), '\n'.join(want) if want else None, check))
    return parts


def _run(source, g):
    """Exec ``source`` in ``g``; returns what it printed (plus the repr of
    a trailing expression's value, as a REPL would)."""
    tree = ast.parse(source)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            head = ast.Module(body=tree.body[:-1], type_ignores=[])
            exec(compile(head, '<doctest>', 'exec'), g)
            value = eval(compile(ast.Expression(last.value), '<doctest>', 'eval'), g)
            if value is not None:
                print(repr(value))
        else:
            exec(compile(tree, '<doctest>', 'exec'), g)
    return buf.getvalue()


_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_doctest(mod, text):
    g = _module_globals(mod)
    for source, want, check in _parts(text):
        got = _run(source, g) if source.strip() else ''
        if want is None or not check or want.strip() == '...':
            continue
        if not _CHECKER.check_output(want.strip() + '\n', got.strip() + '\n', _FLAGS):
            raise AssertionError(f'doctest output differs\n--- source\n{source}\n'
                                 f'--- want\n{want}\n--- got\n{got}')
