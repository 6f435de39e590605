//! Property tests of channel codes: parse → display → parse, concise ⇔ normalize.

use channel_spec::{ChannelSpec, FusedChannelSpec};
use proptest::prelude::*;

fn channel_code() -> impl Strategy<Value = String> {
    let name = "[a-zA-Z_][a-zA-Z0-9_]{0,5}";
    prop_oneof![
        name.prop_map(|n| n),
        (name, 0u32..6).prop_map(|(n, k)| format!("{n}:{k}")),
        (name, 0u32..5, 1u32..5).prop_map(|(n, a, len)| format!("{n}.{a}:{}", a + len)),
        (name, 0u32..9).prop_map(|(n, i)| format!("{n}.{i}")),
        Just("rgb".to_string()),
        Just("dxdy".to_string()),
    ]
}

fn fused_code() -> impl Strategy<Value = String> {
    proptest::collection::vec(channel_code(), 1..6).prop_map(|v| v.join("|"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn channel_code_parse_display_parse(spec in proptest::collection::vec(fused_code(), 1..4)) {
        let text = spec.join(",");
        let c = ChannelSpec::parse(&text).unwrap();
        prop_assert_eq!(c.to_string(), text.clone());
        prop_assert_eq!(ChannelSpec::parse(&c.to_string()).unwrap(), c.clone());
        // concise and normalize describe the same channels
        let n = c.normalize();
        prop_assert_eq!(c.concise().normalize(), n.clone());
        prop_assert_eq!(n.numel(), c.numel());
        for s in c.streams() {
            let f = FusedChannelSpec::parse(&s.to_string()).unwrap();
            prop_assert_eq!(f.concise().to_names(), s.to_names());
            prop_assert_eq!(f.to_names().len(), f.numel());
        }
    }
}
