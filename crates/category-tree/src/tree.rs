//! The [`CategoryTree`] type: a forest of classes with names, ids and indices.

use std::collections::HashMap;
use std::fmt;

use ndarray::Array2;
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::plan::SoftmaxPlan;

/// One class: its name, integer id and the attributes it was built with
/// (for a COCO category, the whole record).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Unique name (the node of the graph).
    pub name: String,
    /// Unique integer id (given, or assigned as `max_id + 1`).
    pub id: i64,
    /// Other attributes, in input order (may repeat `id`, `name`,
    /// `supercategory` as the COCO record did).
    pub attrs: Map<String, Value>,
}

/// A forest of categories where an edge `A → B` means "A is a superclass of B".
///
/// Each category has three identities: its **name**, its integer **id** and its
/// contiguous **index** (`idx`, the position in score arrays). The petgraph
/// graph stores node `i` at `NodeIndex(i)`, so graph indices *are* class indices.
///
/// Build one with [`from_coco`](CategoryTree::from_coco),
/// [`from_mutex`](CategoryTree::from_mutex), [`from_adjacency`](CategoryTree::from_adjacency),
/// [`from_json`](CategoryTree::from_json), [`coerce`](CategoryTree::coerce) or a
/// [`TreeBuilder`](crate::TreeBuilder).
///
/// ```
/// use category_tree::CategoryTree;
/// let tree = CategoryTree::from_adjacency([
///     ("background", vec![]),
///     ("mineral", vec!["granite", "quartz"]),
///     ("animal", vec!["dog", "cat"]),
///     ("dog", vec!["boxer", "beagle"]),
/// ])?;
/// assert_eq!(
///     tree.names(),
///     ["background", "mineral", "animal", "dog", "granite", "quartz", "cat", "boxer", "beagle"]
/// );
/// assert_eq!(tree.idx_groups(), [vec![0, 1, 2], vec![4, 5], vec![3, 6], vec![7, 8]]);
/// assert_eq!(tree.ancestors(7)?, [3, 2]); // boxer: dog, animal
/// # Ok::<(), category_tree::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CategoryTree {
    graph: DiGraph<Category, ()>,
    node_to_idx: HashMap<String, usize>,
    id_to_idx: HashMap<i64, usize>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    leaves: Vec<usize>,
    preorder: Vec<usize>,
    idx_groups: Vec<Vec<usize>>,
    plan: SoftmaxPlan,
}

impl PartialEq for CategoryTree {
    /// Two trees are equal when they have the same categories (name, id,
    /// attributes) at the same indices and the same parent of every index.
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent
            && self.graph.node_count() == other.graph.node_count()
            && self
                .graph
                .node_weights()
                .zip(other.graph.node_weights())
                .all(|(a, b)| a == b)
    }
}

impl Default for CategoryTree {
    fn default() -> Self {
        Self::from_parts(Vec::new(), Vec::new())
    }
}

impl CategoryTree {
    /// Assemble a tree from validated parts: `categories[idx]` and the
    /// parent index of every index (a forest, checked by the caller).
    pub(crate) fn from_parts(categories: Vec<Category>, parent: Vec<Option<usize>>) -> Self {
        let n = categories.len();
        debug_assert_eq!(parent.len(), n);
        let mut graph = DiGraph::with_capacity(n, n);
        let mut node_to_idx = HashMap::with_capacity(n);
        let mut id_to_idx = HashMap::with_capacity(n);
        for (idx, cat) in categories.into_iter().enumerate() {
            node_to_idx.insert(cat.name.clone(), idx);
            id_to_idx.insert(cat.id, idx);
            graph.add_node(cat);
        }
        let mut children = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (c, p) in parent.iter().enumerate() {
            match *p {
                Some(p) => {
                    graph.add_edge(NodeIndex::new(p), NodeIndex::new(c), ());
                    children[p].push(c);
                }
                None => roots.push(c),
            }
        }
        let leaves: Vec<usize> = (0..n).filter(|&i| children[i].is_empty()).collect();

        // Pre-order over roots and children in index order (parents before children).
        let mut preorder = Vec::with_capacity(n);
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            preorder.push(i);
            stack.extend(children[i].iter().rev());
        }

        // Sibling groups: roots first, then each node's children, depth first.
        let mut idx_groups = Vec::new();
        if n > 0 {
            idx_groups.push(roots.clone());
            let mut walk: Vec<(&[usize], usize)> = vec![(&roots, 0)];
            while let Some(top) = walk.last_mut() {
                let (group, pos) = *top;
                if pos >= group.len() {
                    walk.pop();
                    continue;
                }
                top.1 += 1;
                let kids = &children[group[pos]];
                if !kids.is_empty() {
                    idx_groups.push(kids.clone());
                    walk.push((kids, 0));
                }
            }
        }
        let plan = SoftmaxPlan::new(&idx_groups, &leaves, &preorder, &parent, &children);
        Self {
            plan,
            graph,
            node_to_idx,
            id_to_idx,
            parent,
            children,
            roots,
            leaves,
            preorder,
            idx_groups,
        }
    }

    pub(crate) fn plan(&self) -> &SoftmaxPlan {
        &self.plan
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// True for a tree without categories.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The underlying petgraph graph; `NodeIndex::new(idx)` is class `idx`.
    pub fn graph(&self) -> &DiGraph<Category, ()> {
        &self.graph
    }

    /// The category at class index `idx`.
    pub fn category(&self, idx: usize) -> Option<&Category> {
        self.graph.node_weight(NodeIndex::new(idx))
    }

    /// All categories in index order.
    pub fn categories(&self) -> impl ExactSizeIterator<Item = &Category> + '_ {
        self.graph.raw_nodes().iter().map(|n| &n.weight)
    }

    /// Category names in index order (`idx_to_node` of the reference).
    pub fn names(&self) -> Vec<&str> {
        self.categories().map(|c| c.name.as_str()).collect()
    }

    /// Category ids in index order (`idx_to_id` of the reference).
    pub fn ids(&self) -> Vec<i64> {
        self.categories().map(|c| c.id).collect()
    }

    /// Name of class `idx`.
    pub fn idx_to_node(&self, idx: usize) -> Option<&str> {
        self.category(idx).map(|c| c.name.as_str())
    }

    /// Id of class `idx`.
    pub fn idx_to_id(&self, idx: usize) -> Option<i64> {
        self.category(idx).map(|c| c.id)
    }

    /// Index of the category called `name`.
    pub fn node_to_idx(&self, name: &str) -> Option<usize> {
        self.node_to_idx.get(name).copied()
    }

    /// Index of the category with id `id`.
    pub fn id_to_idx(&self, id: i64) -> Option<usize> {
        self.id_to_idx.get(&id).copied()
    }

    /// Id of the category called `name`.
    pub fn node_to_id(&self, name: &str) -> Option<i64> {
        self.node_to_idx(name).and_then(|i| self.idx_to_id(i))
    }

    /// Name of the category with id `id`.
    pub fn id_to_node(&self, id: i64) -> Option<&str> {
        self.id_to_idx(id).and_then(|i| self.idx_to_node(i))
    }

    /// Index of `name`, or [`Error::UnknownNode`].
    pub fn index(&self, name: &str) -> Result<usize> {
        self.node_to_idx(name).ok_or_else(|| Error::UnknownNode {
            name: name.to_string(),
        })
    }

    /// True if a category is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.node_to_idx.contains_key(name)
    }

    fn check_idx(&self, idx: usize) -> Result<()> {
        if idx < self.len() {
            Ok(())
        } else {
            Err(Error::IndexOutOfRange {
                idx,
                len: self.len(),
            })
        }
    }

    /// Parent (direct superclass) of `idx`; `None` for roots and out-of-range indices.
    pub fn parent(&self, idx: usize) -> Option<usize> {
        self.parent.get(idx).copied().flatten()
    }

    /// Children (direct subclasses) of `idx` in index order; empty for leaves
    /// and out-of-range indices.
    pub fn children(&self, idx: usize) -> &[usize] {
        self.children.get(idx).map_or(&[], Vec::as_slice)
    }

    /// Classes without a parent, in index order.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// Classes without children, in index order.
    pub fn leaves(&self) -> &[usize] {
        &self.leaves
    }

    /// All indices, parents before children (depth-first, index order).
    pub fn preorder(&self) -> &[usize] {
        &self.preorder
    }

    /// Groups of mutually exclusive classes (same parent): the roots first,
    /// then the children of each node in depth-first order; each group sorted.
    pub fn idx_groups(&self) -> &[Vec<usize>] {
        &self.idx_groups
    }

    /// Ancestors of `idx`, nearest first (parent, grandparent, …), without `idx`.
    pub fn ancestors(&self, idx: usize) -> Result<Vec<usize>> {
        self.check_idx(idx)?;
        let mut out = Vec::new();
        let mut cur = self.parent[idx];
        while let Some(p) = cur {
            out.push(p);
            cur = self.parent[p];
        }
        Ok(out)
    }

    /// Descendants of `idx` in depth-first pre-order, without `idx`.
    pub fn descendants(&self, idx: usize) -> Result<Vec<usize>> {
        self.check_idx(idx)?;
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.children[idx].iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.children[i].iter().rev());
        }
        Ok(out)
    }

    /// For every index, its sorted ancestors (with itself if `include_self`;
    /// the reference defaults to `true`).
    pub fn idx_to_ancestor_idxs(&self, include_self: bool) -> Vec<Vec<usize>> {
        (0..self.len())
            .map(|i| {
                let mut v = self.ancestors(i).unwrap_or_default();
                if include_self {
                    v.push(i);
                }
                v.sort_unstable();
                v
            })
            .collect()
    }

    /// For every index, its sorted descendants (with itself if `include_self`;
    /// the reference defaults to `false`).
    pub fn idx_to_descendants_idxs(&self, include_self: bool) -> Vec<Vec<usize>> {
        (0..self.len())
            .map(|i| {
                let mut v = self.descendants(i).unwrap_or_default();
                if include_self {
                    v.push(i);
                }
                v.sort_unstable();
                v
            })
            .collect()
    }

    /// Matrix `D` with `D[a, b] = +d` when `b` is `d` levels below `a`,
    /// `D[b, a] = -d`, `0` on the diagonal and NaN for unrelated classes.
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::demo_btree(2, 2, false)?;
    /// let d = tree.idx_pairwise_distance();
    /// assert_eq!(d[[0, 3]], 2.0);
    /// assert_eq!(d[[3, 0]], -2.0);
    /// assert!(d[[1, 2]].is_nan());
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn idx_pairwise_distance(&self) -> Array2<f32> {
        let n = self.len();
        let mut d = Array2::from_elem((n, n), f32::NAN);
        for i in 0..n {
            d[[i, i]] = 0.0;
            let mut cur = self.parent[i];
            let mut dist = 1.0f32;
            while let Some(a) = cur {
                d[[a, i]] = dist;
                d[[i, a]] = -dist;
                dist += 1.0;
                cur = self.parent[a];
            }
        }
        d
    }

    /// Number of levels of the deepest path (0 for an empty tree, 1 if flat).
    pub fn max_depth(&self) -> usize {
        let mut depth = vec![0usize; self.len()];
        let mut best = 0;
        for &i in &self.preorder {
            depth[i] = self.parent[i].map_or(1, |p| depth[p] + 1);
            best = best.max(depth[i]);
        }
        best
    }

    /// Size of the largest sibling group.
    pub fn max_breadth(&self) -> usize {
        self.idx_groups.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// True if the classes are flat (no superclass edges), i.e. mutually exclusive.
    pub fn is_mutex(&self) -> bool {
        self.graph.edge_count() == 0
    }

    /// Sub-tree of the classes at `indexes`, in that order (see [`subgraph`](Self::subgraph)).
    pub fn take(&self, indexes: &[usize]) -> Result<Self> {
        let names = indexes
            .iter()
            .map(|&i| {
                self.check_idx(i)?;
                Ok(self.graph[NodeIndex::new(i)].name.as_str())
            })
            .collect::<Result<Vec<_>>>()?;
        self.subgraph(&names, true)
    }

    /// New tree of the named classes, indexed in the given order, keeping ids
    /// and attributes. With `closure`, a kept class's parent is its nearest
    /// kept ancestor (ancestry survives through dropped classes); without, only
    /// direct edges between kept classes remain.
    ///
    /// Unlike the reference, ids that were assigned (not given) are kept too.
    ///
    /// ```
    /// use category_tree::CategoryTree;
    /// let tree = CategoryTree::from_adjacency([("a", vec!["b"]), ("b", vec!["c"])])?;
    /// let sub = tree.subgraph(&["c", "a"], true)?;
    /// assert_eq!(sub.names(), ["c", "a"]);
    /// assert_eq!(sub.parent(0), Some(1));
    /// assert!(tree.subgraph(&["c", "a"], false)?.is_mutex());
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn subgraph<S: AsRef<str>>(&self, nodes: &[S], closure: bool) -> Result<Self> {
        let mut new_idx: HashMap<usize, usize> = HashMap::with_capacity(nodes.len());
        let mut old = Vec::with_capacity(nodes.len());
        for (k, name) in nodes.iter().enumerate() {
            let name = name.as_ref();
            let i = self.index(name)?;
            if new_idx.insert(i, k).is_some() {
                return Err(Error::DuplicateName {
                    name: name.to_string(),
                });
            }
            old.push(i);
        }
        let parents = old
            .iter()
            .map(|&i| {
                let mut cur = self.parent[i];
                while let Some(p) = cur {
                    if let Some(&k) = new_idx.get(&p) {
                        return Some(k);
                    }
                    if !closure {
                        return None;
                    }
                    cur = self.parent[p];
                }
                None
            })
            .collect();
        let cats = old
            .iter()
            .map(|&i| self.graph[NodeIndex::new(i)].clone())
            .collect();
        Ok(Self::from_parts(cats, parents))
    }

    /// Same tree with names lowercased and spaces removed (also in the `name`,
    /// `supercategory` and `parents` attributes; `id` is recorded in the
    /// attributes). Fails if two names collide after normalization.
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::from_mutex(["Big Dog", "Cat"])?;
    /// assert_eq!(tree.normalize()?.names(), ["bigdog", "cat"]);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn normalize(&self) -> Result<Self> {
        fn norm(s: &str) -> String {
            s.to_lowercase().replace(' ', "")
        }
        let mut seen = HashMap::with_capacity(self.len());
        let mut cats = Vec::with_capacity(self.len());
        for cat in self.categories() {
            let name = norm(&cat.name);
            if seen.insert(name.clone(), ()).is_some() {
                return Err(Error::DuplicateName { name });
            }
            let mut attrs = cat.attrs.clone();
            attrs.entry("id").or_insert_with(|| Value::from(cat.id));
            for key in ["name", "supercategory"] {
                if let Some(Value::String(s)) = attrs.get_mut(key) {
                    *s = norm(s);
                }
            }
            if let Some(Value::Array(items)) = attrs.get_mut("parents") {
                for item in items {
                    if let Value::String(s) = item {
                        *s = norm(s);
                    }
                }
            }
            cats.push(Category {
                name,
                id: cat.id,
                attrs,
            });
        }
        Ok(Self::from_parts(cats, self.parent.clone()))
    }

    /// Text drawing of the forest (roots and children in index order), in the
    /// style of `networkx.write_network_text`.
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::from_adjacency([
    ///     ("a", vec!["b", "c"]), ("d", vec![]),
    /// ])?;
    /// assert_eq!(tree.forest_str(), "╟── a\n╎   ├─╼ b\n╎   └─╼ c\n╙── d\n");
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn forest_str(&self) -> String {
        let mut out = String::new();
        // (idx, indent, is_last, is_root)
        let mut stack: Vec<(usize, String, bool, bool)> = Vec::new();
        let nroots = self.roots.len();
        for (k, &r) in self.roots.iter().enumerate().rev() {
            stack.push((r, String::new(), k + 1 == nroots, true));
        }
        while let Some((i, indent, last, root)) = stack.pop() {
            let (branch, next) = match (root, last) {
                (true, false) => ("╟── ", "╎   "),
                (true, true) => ("╙── ", "    "),
                (false, false) => ("├─╼ ", "│   "),
                (false, true) => ("└─╼ ", "    "),
            };
            out.push_str(&indent);
            out.push_str(branch);
            out.push_str(&self.graph[NodeIndex::new(i)].name);
            out.push('\n');
            let kids = &self.children[i];
            let child_indent = format!("{indent}{next}");
            for (k, &c) in kids.iter().enumerate().rev() {
                stack.push((c, child_indent.clone(), k + 1 == kids.len(), false));
            }
        }
        out
    }
}

impl fmt::Display for CategoryTree {
    /// `<CategoryTree(nNodes=…, maxDepth=…, maxBreadth=…, nodes=[…])>` like the
    /// reference's `repr` (depth and breadth only for hierarchies).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = self.max_depth();
        write!(f, "<CategoryTree(nNodes={}, ", self.len())?;
        if depth > 1 {
            write!(f, "maxDepth={depth}, maxBreadth={}, ", self.max_breadth())?;
        }
        write!(f, "nodes={:?})>", self.names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree() {
        let t = CategoryTree::default();
        assert!(t.is_empty() && t.is_mutex());
        assert!(t.idx_groups().is_empty());
        assert_eq!(t.max_depth(), 0);
        assert_eq!(t.max_breadth(), 0);
        assert_eq!(t.forest_str(), "");
        assert_eq!(t.to_string(), "<CategoryTree(nNodes=0, nodes=[])>");
        assert_eq!(t.idx_pairwise_distance().shape(), [0, 0]);
    }

    #[test]
    fn lookups_out_of_range_are_none_or_empty() {
        let t = CategoryTree::from_mutex(["a"]).unwrap();
        assert_eq!(t.idx_to_node(1), None);
        assert_eq!(t.idx_to_id(1), None);
        assert_eq!(t.id_to_idx(5), None);
        assert_eq!(t.node_to_idx("b"), None);
        assert_eq!(t.parent(3), None);
        assert!(t.children(3).is_empty());
        assert!(matches!(t.index("b"), Err(Error::UnknownNode { .. })));
        assert!(t.contains("a") && !t.contains("b"));
        assert!(matches!(
            t.descendants(1),
            Err(Error::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn equality_covers_attributes_and_structure() {
        let a = CategoryTree::from_adjacency([("x", vec!["y"])]).unwrap();
        let b = CategoryTree::from_adjacency([("x", Vec::<&str>::new()), ("y", vec![])]).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.clone(), a);
        let mut cats: Vec<Category> = a.categories().cloned().collect();
        cats[0].attrs.insert("color".into(), "red".into());
        let c = CategoryTree::from_parts(cats, vec![None, Some(0)]);
        assert_ne!(a, c);
    }
}
