//! `category-tree`: Hierarchical category graph (kwcoco CategoryTree) with hierarchical softmax helpers.
