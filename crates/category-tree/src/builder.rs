//! Incremental construction of a [`CategoryTree`] (the analogue of filling a
//! `networkx.DiGraph` before wrapping it in the reference `CategoryTree`).

use indexmap::{IndexMap, IndexSet};
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::tree::{Category, CategoryTree};

/// How contiguous class indices are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IndexOrder {
    /// Index order is the order in which nodes were first mentioned (the
    /// default, as in kwcoco ≥ 0.7.4).
    #[default]
    Insertion,
    /// Index order sorts the categories by integer id (older kwcoco).
    ById,
}

#[derive(Debug, Clone, Default)]
struct NodeSpec {
    id: Option<i64>,
    attrs: Map<String, Value>,
    /// True once the node was given as a category of its own (not only
    /// mentioned as somebody's parent or child).
    explicit: bool,
}

/// Collects nodes (with optional ids and attributes) and superclass edges,
/// then validates them into a [`CategoryTree`].
///
/// Nodes are ordered by first mention: adding an edge to an unknown parent
/// creates that parent (an *implicit* node) right after the nodes seen so far.
///
/// ```
/// use category_tree::{TreeBuilder, IndexOrder};
/// let mut b = TreeBuilder::new();
/// b.add_category("dog", Some(5), Default::default())?;
/// b.add_edge("animal", "dog");
/// b.add_category("cat", None, Default::default())?;
/// b.add_edge("animal", "cat");
/// let tree = b.build()?;
/// assert_eq!(tree.names(), ["dog", "animal", "cat"]);
/// // missing ids are `max_id + 1` in node order
/// assert_eq!(tree.ids(), [5, 6, 7]);
///
/// let mut b = TreeBuilder::new().index_order(IndexOrder::ById);
/// b.add_category("b", Some(2), Default::default())?;
/// b.add_category("a", Some(1), Default::default())?;
/// assert_eq!(b.build()?.names(), ["a", "b"]);
/// # Ok::<(), category_tree::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TreeBuilder {
    nodes: IndexMap<String, NodeSpec>,
    edges: IndexSet<(usize, usize)>,
    order: IndexOrder,
}

impl TreeBuilder {
    /// An empty builder with [`IndexOrder::Insertion`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Choose how class indices are assigned.
    pub fn index_order(mut self, order: IndexOrder) -> Self {
        self.order = order;
        self
    }

    /// Number of nodes mentioned so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True if no node was mentioned yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Mention a node without attributes; a no-op if it is already known.
    pub fn ensure_node(&mut self, name: &str) -> &mut Self {
        self.slot(name);
        self
    }

    /// Add a category with its own record. A node first mentioned implicitly
    /// (as a parent or child) keeps its position and receives the id and
    /// attributes. Adding the same name twice is an error.
    pub fn add_category(
        &mut self,
        name: &str,
        id: Option<i64>,
        attrs: Map<String, Value>,
    ) -> Result<&mut Self> {
        let pos = self.slot(name);
        let spec = &mut self.nodes[pos];
        if spec.explicit {
            return Err(Error::DuplicateName {
                name: name.to_string(),
            });
        }
        spec.explicit = true;
        spec.id = id;
        spec.attrs = attrs;
        Ok(self)
    }

    /// Add the superclass edge `parent → child`, creating unknown nodes
    /// (child first, then parent, if both are new). Repeated edges are kept once.
    pub fn add_edge(&mut self, parent: &str, child: &str) -> &mut Self {
        let c = self.slot(child);
        let p = self.slot(parent);
        self.edges.insert((p, c));
        self
    }

    /// True if `name` was mentioned.
    pub fn contains(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// Set (or replace) the id and attributes of a node, creating it if needed.
    pub(crate) fn set_category(&mut self, name: &str, id: Option<i64>, attrs: Map<String, Value>) {
        let pos = self.slot(name);
        let spec = &mut self.nodes[pos];
        spec.explicit = true;
        spec.id = id;
        spec.attrs = attrs;
    }

    fn slot(&mut self, name: &str) -> usize {
        match self.nodes.get_index_of(name) {
            Some(pos) => pos,
            None => {
                self.nodes
                    .insert_full(name.to_string(), NodeSpec::default())
                    .0
            }
        }
    }

    /// Validate (DAG, at most one parent, unique ids), fill in missing ids and
    /// assign class indices.
    pub fn build(self) -> Result<CategoryTree> {
        let order = self.order;
        self.build_with(|specs: &[(String, i64)]| {
            let mut perm: Vec<usize> = (0..specs.len()).collect();
            if order == IndexOrder::ById {
                perm.sort_by_key(|&p| specs[p].1);
            }
            Ok(perm)
        })
    }

    /// Like [`build`](Self::build), with an explicit index order given as
    /// names (used when loading a serialized state).
    pub(crate) fn build_with_names(self, idx_to_node: &[String]) -> Result<CategoryTree> {
        self.build_with(|specs: &[(String, i64)]| {
            let lookup: IndexMap<&str, usize> = specs
                .iter()
                .enumerate()
                .map(|(p, (n, _))| (n.as_str(), p))
                .collect();
            let mut seen = vec![false; specs.len()];
            let mut perm = Vec::with_capacity(specs.len());
            for (i, name) in idx_to_node.iter().enumerate() {
                let p = *lookup
                    .get(name.as_str())
                    .ok_or_else(|| Error::InvalidState {
                        path: format!("idx_to_node[{i}]"),
                        reason: format!("category {name:?} is not a node of the graph"),
                    })?;
                if std::mem::replace(&mut seen[p], true) {
                    return Err(Error::InvalidState {
                        path: format!("idx_to_node[{i}]"),
                        reason: format!("category {name:?} is listed twice"),
                    });
                }
                perm.push(p);
            }
            if let Some(p) = seen.iter().position(|s| !s) {
                return Err(Error::InvalidState {
                    path: "idx_to_node".to_string(),
                    reason: format!("graph node {:?} has no class index", specs[p].0),
                });
            }
            Ok(perm)
        })
    }

    fn build_with(
        self,
        order: impl FnOnce(&[(String, i64)]) -> Result<Vec<usize>>,
    ) -> Result<CategoryTree> {
        let n = self.nodes.len();
        let names: Vec<&str> = self.nodes.keys().map(String::as_str).collect();

        // Structure checks on a petgraph copy in node order.
        let mut check: DiGraph<(), ()> = DiGraph::with_capacity(n, self.edges.len());
        for _ in 0..n {
            check.add_node(());
        }
        for &(p, c) in &self.edges {
            check.add_edge(NodeIndex::new(p), NodeIndex::new(c), ());
        }
        if let Err(cycle) = petgraph::algo::toposort(&check, None) {
            return Err(Error::Cycle {
                node: names[cycle.node_id().index()].to_string(),
            });
        }
        let mut parent_of: Vec<Option<usize>> = vec![None; n];
        for (c, slot) in parent_of.iter_mut().enumerate() {
            let parents: Vec<usize> = check
                .neighbors_directed(NodeIndex::new(c), petgraph::Direction::Incoming)
                .map(|p| p.index())
                .collect();
            match parents.len() {
                0 => {}
                1 => *slot = Some(parents[0]),
                _ => {
                    // neighbors() lists the most recent edge first
                    let mut parents: Vec<String> = parents
                        .iter()
                        .rev()
                        .map(|&p| names[p].to_string())
                        .collect();
                    parents.dedup();
                    return Err(Error::MultipleParents {
                        node: names[c].to_string(),
                        parents,
                    });
                }
            }
        }

        // Ids: explicit ones must be unique; missing ones are max_id + 1 in node order.
        let mut by_id: IndexMap<i64, usize> = IndexMap::new();
        for (pos, spec) in self.nodes.values().enumerate() {
            if let Some(id) = spec.id {
                if let Some(&first) = by_id.get(&id) {
                    return Err(Error::DuplicateId {
                        id,
                        first: names[first].to_string(),
                        second: names[pos].to_string(),
                    });
                }
                by_id.insert(id, pos);
            }
        }
        let mut max_id = by_id.keys().copied().fold(0i64, i64::max);
        let mut specs: Vec<(String, i64)> = Vec::with_capacity(n);
        for (name, spec) in &self.nodes {
            let id = match spec.id {
                Some(id) => id,
                None => max_id
                    .checked_add(1)
                    .ok_or_else(|| Error::InvalidArgument {
                        name: "id",
                        reason: format!(
                            "cannot assign an id to {name:?}: the largest id is i64::MAX"
                        ),
                    })?,
            };
            max_id = max_id.max(id);
            specs.push((name.clone(), id));
        }

        let perm = order(&specs)?;
        let mut pos_to_idx = vec![0usize; n];
        for (idx, &pos) in perm.iter().enumerate() {
            pos_to_idx[pos] = idx;
        }
        let mut attrs: Vec<Map<String, Value>> =
            self.nodes.into_values().map(|s| s.attrs).collect();
        let categories: Vec<Category> = perm
            .iter()
            .map(|&pos| Category {
                name: specs[pos].0.clone(),
                id: specs[pos].1,
                attrs: std::mem::take(&mut attrs[pos]),
            })
            .collect();
        let parents: Vec<Option<usize>> = perm
            .iter()
            .map(|&pos| parent_of[pos].map(|p| pos_to_idx[p]))
            .collect();
        Ok(CategoryTree::from_parts(categories, parents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_nodes_follow_first_mention() {
        let mut b = TreeBuilder::new();
        b.add_edge("p", "c"); // child first, then parent
        b.add_category("x", None, Map::new()).unwrap();
        b.add_category("p", Some(10), Map::new()).unwrap(); // keeps its slot
        b.add_edge("p", "c"); // repeated edge kept once
        b.ensure_node("c");
        assert_eq!(b.len(), 3);
        let t = b.build().unwrap();
        assert_eq!(t.names(), ["c", "p", "x"]);
        assert_eq!(t.ids(), [11, 10, 12]);
        assert_eq!(t.children(1), [0]);
        assert_eq!(t.graph().edge_count(), 1);
    }

    #[test]
    fn assigned_ids_start_above_zero_and_max() {
        let mut b = TreeBuilder::new();
        b.add_category("a", Some(-5), Map::new()).unwrap();
        b.ensure_node("b");
        assert_eq!(b.build().unwrap().ids(), [-5, 1]);
        let mut b = TreeBuilder::new();
        b.add_category("a", Some(i64::MAX), Map::new()).unwrap();
        b.ensure_node("b");
        assert!(matches!(
            b.build(),
            Err(Error::InvalidArgument { name: "id", .. })
        ));
        assert!(TreeBuilder::new().is_empty());
        assert!(TreeBuilder::new().build().unwrap().is_empty());
    }

    #[test]
    fn cycles_are_found_before_parent_counts() {
        let mut b = TreeBuilder::new();
        b.add_edge("a", "b")
            .add_edge("b", "c")
            .add_edge("c", "a")
            .add_edge("x", "b");
        assert!(matches!(b.build(), Err(Error::Cycle { .. })));
    }
}
