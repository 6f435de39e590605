//! `coco-model`: The kwcoco / MS-COCO data model: open records, index, mutation, geometry, transforms, channels.
