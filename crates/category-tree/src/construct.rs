//! Constructors: mutually exclusive lists, adjacency lists, class counts,
//! `coerce`, and the demo trees of the reference.

use serde_json::{Map, Value};

use crate::builder::TreeBuilder;
use crate::error::{Error, Result};
use crate::tree::CategoryTree;

impl CategoryTree {
    /// Flat tree of mutually exclusive classes.
    ///
    /// Ids are the list position (`0..n`), except that when a class is called
    /// `background` it gets id `0` and every class gets its position `+ 1`
    /// (the reference's `bg_hack`).
    ///
    /// ```
    /// use category_tree::CategoryTree;
    /// assert_eq!(CategoryTree::from_mutex(["a", "background", "b"])?.ids(), [1, 0, 3]);
    /// assert_eq!(CategoryTree::from_mutex(["a", "b"])?.ids(), [0, 1]);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn from_mutex<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<S> = names.into_iter().collect();
        let has_bg = names.iter().any(|n| n.as_ref() == "background");
        let start = i64::from(has_bg);
        let mut b = TreeBuilder::new();
        for (pos, name) in names.iter().enumerate() {
            let name = name.as_ref();
            let id = if has_bg && name == "background" {
                0
            } else {
                i64::try_from(pos)
                    .ok()
                    .and_then(|p| p.checked_add(start))
                    .ok_or_else(|| Error::InvalidArgument {
                        name: "names",
                        reason: "too many classes".to_string(),
                    })?
            };
            let mut attrs = Map::new();
            attrs.insert("id".to_string(), Value::from(id));
            b.add_category(name, Some(id), attrs)?;
        }
        b.build()
    }

    /// `n` mutually exclusive classes `class_1 … class_n` with ids `0 … n-1`.
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::from_count(3)?;
    /// assert_eq!(tree.names(), ["class_1", "class_2", "class_3"]);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn from_count(n: usize) -> Result<Self> {
        Self::from_mutex((1..=n).map(|i| format!("class_{i}")))
    }

    /// Tree from `(parent, children)` pairs, like `networkx.from_dict_of_lists`:
    /// all parents are added first (in the given order), then the children as
    /// they appear. No ids are given, so ids are `1 … n` in node order.
    pub fn from_adjacency<I, P, C, S>(adjacency: I) -> Result<Self>
    where
        I: IntoIterator<Item = (P, C)>,
        P: AsRef<str>,
        C: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let pairs: Vec<(P, C)> = adjacency.into_iter().collect();
        let mut b = TreeBuilder::new();
        for (parent, _) in &pairs {
            b.ensure_node(parent.as_ref());
        }
        for (parent, children) in pairs {
            for child in children {
                b.add_edge(parent.as_ref(), child.as_ref());
            }
        }
        b.build()
    }

    /// Interpret a JSON value as a tree: a non-negative integer `n` gives
    /// [`from_count`](Self::from_count), a list of names gives
    /// [`from_mutex`](Self::from_mutex), an object is a serialized state
    /// ([`from_json`](Self::from_json)).
    ///
    /// ```
    /// use category_tree::CategoryTree;
    /// use serde_json::json;
    /// assert_eq!(CategoryTree::coerce(&json!(2))?.names(), ["class_1", "class_2"]);
    /// assert_eq!(CategoryTree::coerce(&json!(["x", "y"]))?.len(), 2);
    /// let tree = CategoryTree::from_count(4)?;
    /// assert_eq!(CategoryTree::coerce(&tree.to_json())?, tree);
    /// assert!(CategoryTree::coerce(&json!("nope")).is_err());
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn coerce(data: &Value) -> Result<Self> {
        match data {
            Value::Number(n) => {
                let count =
                    n.as_u64()
                        .and_then(|c| usize::try_from(c).ok())
                        .ok_or(Error::Coerce {
                            kind: "number that is not a non-negative integer",
                        })?;
                Self::from_count(count)
            }
            Value::Array(items) => {
                let names = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(s) => Ok(s.as_str()),
                        _ => Err(Error::InvalidArgument {
                            name: "data",
                            reason: format!("list item {i} is not a class name string: {v}"),
                        }),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Self::from_mutex(names)
            }
            Value::Object(_) => Self::from_json(data),
            Value::Null => Err(Error::Coerce { kind: "null" }),
            Value::Bool(_) => Err(Error::Coerce { kind: "boolean" }),
            Value::String(_) => Err(Error::Coerce { kind: "string" }),
        }
    }

    /// Balanced tree demo (`CategoryTree.demo('btree', r, h)`): nodes `"1"…`
    /// numbered breadth first, each with `r` children, `h` levels below the
    /// root, plus an extra root `"0"` at the end when `add_zero`.
    /// Ids are `1 …` in node order (so `"0"` gets the last id).
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::demo_btree(3, 3, true)?;
    /// assert_eq!(tree.len(), 41);
    /// assert_eq!(tree.idx_groups()[0], [0, 40]);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn demo_btree(r: usize, h: usize, add_zero: bool) -> Result<Self> {
        // networkx.balanced_tree: node i has children r*i+1 ..= r*i+r
        let mut total: usize = 1;
        let mut level: usize = 1;
        for _ in 0..h {
            level = level.checked_mul(r).ok_or_else(too_big)?;
            total = total.checked_add(level).ok_or_else(too_big)?;
        }
        if total > 1_000_000 {
            return Err(too_big());
        }
        let mut b = TreeBuilder::new();
        for i in 0..total {
            b.ensure_node(&(i + 1).to_string());
        }
        for i in 0..total {
            for k in 1..=r {
                let c = r * i + k;
                if c < total {
                    b.add_edge(&(i + 1).to_string(), &(c + 1).to_string());
                }
            }
        }
        if add_zero {
            b.ensure_node("0");
        }
        b.build()
    }

    /// The 22-class animal hierarchy of the reference (`demo('animals_v1')`).
    pub fn demo_animals() -> Self {
        Self::from_adjacency([
            ("background", vec![]),
            ("foreground", vec!["animal"]),
            ("animal", vec!["mammal", "fish", "insect", "reptile"]),
            ("mammal", vec!["dog", "cat", "human", "zebra"]),
            ("zebra", vec!["grevys", "plains"]),
            ("grevys", vec!["fred"]),
            ("dog", vec!["boxer", "beagle", "golden"]),
            ("cat", vec!["maine coon", "persian", "sphynx"]),
            ("reptile", vec!["bearded dragon", "t-rex"]),
        ])
        .unwrap_or_default()
    }
}

fn too_big() -> Error {
    Error::InvalidArgument {
        name: "r, h",
        reason: "the balanced tree would have more than 1,000,000 nodes".to_string(),
    }
}
