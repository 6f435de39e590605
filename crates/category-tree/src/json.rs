//! The reference's serialized state:
//! `{"graph": [[node, attrs, children], ...], "id_to_node": {...}, "idx_to_node": [...]}`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::builder::TreeBuilder;
use crate::error::{Error, Result};
use crate::tree::CategoryTree;

impl CategoryTree {
    /// Serialize to the reference state: `graph` as nested
    /// `[node, attrs, children]` triples sorted by name, `id_to_node` (an
    /// object, so its keys are id strings) and `idx_to_node`.
    ///
    /// ```
    /// let tree = category_tree::CategoryTree::from_mutex(["a", "b"])?;
    /// let state = tree.to_json();
    /// assert_eq!(state["graph"][0], serde_json::json!(["a", {"id": 0}, []]));
    /// assert_eq!(state["id_to_node"]["1"], "b");
    /// // ids come back as integers
    /// let back = category_tree::CategoryTree::from_json(&state)?;
    /// assert_eq!(back.idx_to_id(1), Some(1));
    /// assert_eq!(back, tree);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn to_json(&self) -> Value {
        let mut state = Map::new();
        state.insert("graph".into(), Value::Array(self.nested_tuples()));
        let id_to_node: Map<String, Value> = self
            .categories()
            .map(|c| (c.id.to_string(), Value::from(c.name.clone())))
            .collect();
        state.insert("id_to_node".into(), Value::Object(id_to_node));
        state.insert(
            "idx_to_node".into(),
            Value::from(
                self.names()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            ),
        );
        Value::Object(state)
    }

    /// [`to_json`](Self::to_json) as a string.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }

    fn nested_tuples(&self) -> Vec<Value> {
        let sorted = |idxs: &[usize]| {
            let mut v = idxs.to_vec();
            v.sort_by(|&a, &b| self.idx_to_node(a).cmp(&self.idx_to_node(b)));
            v
        };
        // Build bottom-up: children before parents (reverse pre-order).
        let mut encoded: Vec<Option<Value>> = vec![None; self.len()];
        for &i in self.preorder().iter().rev() {
            let kids: Vec<Value> = sorted(self.children(i))
                .into_iter()
                .map(|c| encoded[c].take().unwrap_or(Value::Null))
                .collect();
            let Some(cat) = self.category(i) else {
                continue;
            };
            encoded[i] = Some(Value::Array(vec![
                Value::from(cat.name.clone()),
                Value::Object(cat.attrs.clone()),
                Value::Array(kids),
            ]));
        }
        sorted(self.roots())
            .into_iter()
            .map(|r| encoded[r].take().unwrap_or(Value::Null))
            .collect()
    }

    /// Load a serialized state (ours or the reference's). Node names may be
    /// strings or integers; `id_to_node` keys are parsed back to integers.
    /// Without `idx_to_node` the index order is the graph's node order;
    /// without `id_to_node`, ids come from the `id` attributes or are assigned.
    pub fn from_json(state: &Value) -> Result<Self> {
        let obj = state.as_object().ok_or_else(|| Error::InvalidState {
            path: "$".into(),
            reason: format!("expected an object, got {}", kind(state)),
        })?;
        let graph = match obj.get("graph") {
            Some(Value::Array(g)) => g.as_slice(),
            Some(Value::Null) | None => &[],
            Some(v) => {
                return Err(Error::InvalidState {
                    path: "graph".into(),
                    reason: format!("expected a list, got {}", kind(v)),
                });
            }
        };

        // Nodes and attributes in pre-order of the nested encoding.
        let mut b = TreeBuilder::new();
        let mut attrs: indexmap::IndexMap<String, Map<String, Value>> = indexmap::IndexMap::new();
        let mut stack: Vec<(&Value, Option<String>, String)> = graph
            .iter()
            .enumerate()
            .rev()
            .map(|(i, v)| (v, None, format!("graph[{i}]")))
            .collect();
        while let Some((item, parent, path)) = stack.pop() {
            let tup = item.as_array().ok_or_else(|| Error::InvalidState {
                path: path.clone(),
                reason: format!(
                    "expected a [node, attrs, children] list, got {}",
                    kind(item)
                ),
            })?;
            let (node, data, kids) = match tup.as_slice() {
                [n, k] => (n, None, k),
                [n, d, k] => (n, Some(d), k),
                _ => {
                    return Err(Error::InvalidState {
                        path,
                        reason: format!("expected 2 or 3 items, got {}", tup.len()),
                    });
                }
            };
            let name = node_name(node).ok_or_else(|| Error::InvalidState {
                path: format!("{path}[0]"),
                reason: format!("node must be a string or integer, got {node}"),
            })?;
            b.ensure_node(&name);
            if let Some(p) = &parent {
                b.add_edge(p, &name);
            }
            match data {
                None | Some(Value::Null) => {}
                Some(Value::Object(m)) => {
                    attrs.insert(name.clone(), m.clone());
                }
                Some(v) => {
                    return Err(Error::InvalidState {
                        path: format!("{path}[1]"),
                        reason: format!("node attributes must be an object, got {}", kind(v)),
                    });
                }
            }
            let kids = kids.as_array().ok_or_else(|| Error::InvalidState {
                path: format!("{path}[{}]", tup.len() - 1),
                reason: format!("children must be a list, got {}", kind(kids)),
            })?;
            let child_path = format!("{path}[{}]", tup.len() - 1);
            for (i, k) in kids.iter().enumerate().rev() {
                stack.push((k, Some(name.clone()), format!("{child_path}[{i}]")));
            }
        }

        // Ids: from `id_to_node`, else from the `id` attribute.
        let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        match obj.get("id_to_node") {
            None | Some(Value::Null) => {
                for (name, a) in &attrs {
                    if let Some(id) = a.get("id").and_then(Value::as_i64) {
                        ids.insert(name.clone(), id);
                    }
                }
            }
            Some(Value::Object(m)) => {
                for (key, v) in m {
                    let path = format!("id_to_node[{key:?}]");
                    let id: i64 = key.trim().parse().map_err(|_| Error::InvalidState {
                        path: path.clone(),
                        reason: format!("id key {key:?} is not an integer"),
                    })?;
                    let name = node_name(v).ok_or_else(|| Error::InvalidState {
                        path: path.clone(),
                        reason: format!("expected a category name, got {v}"),
                    })?;
                    if !b.contains(&name) {
                        return Err(Error::InvalidState {
                            path,
                            reason: format!("category {name:?} is not a node of the graph"),
                        });
                    }
                    if ids.insert(name.clone(), id).is_some() {
                        return Err(Error::InvalidState {
                            path,
                            reason: format!("category {name:?} has several ids"),
                        });
                    }
                }
            }
            Some(v) => {
                return Err(Error::InvalidState {
                    path: "id_to_node".into(),
                    reason: format!("expected an object, got {}", kind(v)),
                });
            }
        }
        for (name, a) in attrs {
            let id = ids.remove(&name);
            b.set_category(&name, id, a);
        }
        for (name, id) in ids {
            b.set_category(&name, Some(id), Map::new());
        }

        match obj.get("idx_to_node") {
            None | Some(Value::Null) => b.build(),
            Some(Value::Array(items)) => {
                let names = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        node_name(v).ok_or_else(|| Error::InvalidState {
                            path: format!("idx_to_node[{i}]"),
                            reason: format!("expected a category name, got {v}"),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                b.build_with_names(&names)
            }
            Some(v) => Err(Error::InvalidState {
                path: "idx_to_node".into(),
                reason: format!("expected a list, got {}", kind(v)),
            }),
        }
    }

    /// Parse [`from_json`](Self::from_json) input from text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::from_json(&serde_json::from_str(text)?)
    }
}

fn node_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl Serialize for CategoryTree {
    /// Serializes as [`to_json`](CategoryTree::to_json).
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CategoryTree {
    /// Deserializes through [`from_json`](CategoryTree::from_json).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CategoryTree::from_json(&value).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_attributes_without_id_to_node() {
        let state = json!({"graph": [["b", {"id": 7}, [["a", {}, []]]]]});
        let t = CategoryTree::from_json(&state).unwrap();
        assert_eq!(t.names(), ["b", "a"]);
        assert_eq!(t.ids(), [7, 8]);
    }

    #[test]
    fn pairs_without_attributes_load() {
        let state = json!({"graph": [["r", [["k", []]]]], "idx_to_node": ["k", "r"]});
        let t = CategoryTree::from_json(&state).unwrap();
        assert_eq!(t.names(), ["k", "r"]);
        assert_eq!(t.parent(0), Some(1));
        assert_eq!(t.ids(), [2, 1]);
    }

    #[test]
    fn a_node_under_two_parents_is_rejected() {
        let state = json!({"graph": [["a", {}, [["c", {}, []]]], ["b", {}, [["c", {}, []]]]]});
        assert!(matches!(
            CategoryTree::from_json(&state),
            Err(Error::MultipleParents { .. })
        ));
    }

    #[test]
    fn empty_state_round_trips() {
        let t = CategoryTree::default();
        let s = t.to_json();
        assert_eq!(s, json!({"graph": [], "id_to_node": {}, "idx_to_node": []}));
        assert_eq!(CategoryTree::from_json(&s).unwrap(), t);
        assert_eq!(CategoryTree::from_json(&json!({})).unwrap(), t);
    }

    #[test]
    fn id_to_node_must_name_graph_nodes_once() {
        let s = json!({"graph": [["a", {}, []]], "id_to_node": {"1": "zz"}});
        assert!(
            CategoryTree::from_json(&s)
                .unwrap_err()
                .to_string()
                .contains("zz")
        );
        let s = json!({"graph": [["a", {}, []]], "id_to_node": {"1": "a", "2": "a"}});
        assert!(
            CategoryTree::from_json(&s)
                .unwrap_err()
                .to_string()
                .contains("several ids")
        );
    }
}
