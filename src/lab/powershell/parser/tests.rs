use super::*;

fn parse(src: &str) -> PResult<Arc<ScriptBlockAst>> {
    parse_script(Arc::from(src))
}

#[test]
fn every_script_cauterize_sends_parses() {
    for (name, text) in [
        ("bootstrap", crate::runtime::bootstrap::BOOTSTRAP),
        ("probe", crate::runtime::probe::PROBE),
        ("runtime", crate::runtime::job::RUNTIME),
    ] {
        if let Err(e) = parse(text) {
            let line = text[..e.offset].matches('\n').count() + 1;
            panic!("{name} line {line}: {e:?}: {:?}", &text[e.offset..(e.offset + 60).min(text.len())]);
        }
    }
}
