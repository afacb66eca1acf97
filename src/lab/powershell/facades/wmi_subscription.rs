//! WMI permanent event subscriptions (`root\subscription`) over the host's
//! `WmiSubscriptions`: `__EventFilter`, the consumers
//! (`CommandLineEventConsumer`, `ActiveScriptEventConsumer`, and the
//! abstract `__EventConsumer`, which lists every subclass's instances with
//! `__CLASS` the concrete class), and `__FilterToConsumerBinding`, whose
//! `Filter` and `Consumer` are the object paths written when it was made
//! (key values escaped: `\\` and `\"`). `Delete()` is
//! `ManagementObject.Delete()`: it returns nothing, needs an administrator
//! ("Access denied "), and throws "Not found " when the instance is gone.
//! The classes exist in every namespace; the lab's subscriptions are all
//! in `root\subscription`, so `root\cimv2` lists none.

use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetResult};
use crate::lab::powershell::value::Value;
use crate::lab::world::wmi::Consumer;

use super::wmi::{Handle, WmiObject, escape_key, not_found};

const CLASSES: &[&str] = &["__eventfilter", "__eventconsumer", "commandlineeventconsumer", "activescripteventconsumer", "__filtertoconsumerbinding"];

/// Whether `class` (lower case) is a subscription class.
pub fn serves(class: &str) -> bool {
    CLASSES.contains(&class)
}

fn object(cx: &Ctx<'_>, class: &str, relpath: String, props: Vec<(&str, Value)>, handle: Handle) -> WmiObject {
    WmiObject {
        class: class.into(),
        namespace: r"ROOT\subscription".into(),
        computer: cx.spec.name.clone(),
        relpath,
        props: props.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        view: &[],
        handle,
    }
}

fn opt(s: Option<&str>) -> Value {
    s.filter(|s| !s.is_empty()).map_or(Value::Null, Value::str)
}

/// A path the host model stores unescaped (`Class.Name="x"`), as WMI
/// writes it (`Class.Name="x"` with the key escaped).
fn wmi_path(raw: &str) -> String {
    match raw.split_once(".Name=\"") {
        Some((class, rest)) => format!("{class}.Name=\"{}\"", escape_key(rest.strip_suffix('"').unwrap_or(rest))),
        None => raw.to_string(),
    }
}

/// The instances of `class` (lower case) in namespace `ns` (lower case).
pub fn instances(cx: &Ctx<'_>, ns: &str, class: &str) -> Vec<WmiObject> {
    if ns != r"root\subscription" {
        return Vec::new();
    }
    let w = &cx.host.wmi;
    match class {
        "__eventfilter" => w
            .filters
            .iter()
            .map(|f| {
                let props = vec![
                    ("Name", Value::str(&f.name)),
                    ("Query", Value::str(&f.query)),
                    ("QueryLanguage", Value::str(&f.query_language)),
                    ("EventNamespace", Value::str(&f.event_namespace)),
                    ("CreatorSID", Value::Null),
                ];
                object(cx, "__EventFilter", format!("__EventFilter.Name=\"{}\"", escape_key(&f.name)), props, Handle::Filter(f.name.clone()))
            })
            .collect(),
        "__eventconsumer" | "commandlineeventconsumer" | "activescripteventconsumer" => w
            .consumers
            .iter()
            .filter(|c| class == "__eventconsumer" || c.class().eq_ignore_ascii_case(class))
            .map(|c| {
                let props = match c {
                    Consumer::CommandLine { name, command_line_template, executable_path } => vec![
                        ("Name", Value::str(name)),
                        ("CommandLineTemplate", opt(Some(command_line_template))),
                        ("ExecutablePath", opt(executable_path.as_deref())),
                        ("WorkingDirectory", Value::Null),
                        ("RunInteractively", Value::Bool(false)),
                    ],
                    Consumer::ActiveScript { name, scripting_engine, script_text } => vec![
                        ("Name", Value::str(name)),
                        ("ScriptingEngine", Value::str(scripting_engine)),
                        ("ScriptText", opt(Some(script_text))),
                        ("ScriptFileName", Value::Null),
                    ],
                };
                let rel = format!("{}.Name=\"{}\"", c.class(), escape_key(c.name()));
                object(cx, c.class(), rel, props, Handle::Consumer { class: c.class(), name: c.name().to_string() })
            })
            .collect(),
        "__filtertoconsumerbinding" => w
            .bindings
            .iter()
            .map(|b| {
                let (filter, consumer) = (wmi_path(&b.filter), wmi_path(&b.consumer));
                let rel = format!("__FilterToConsumerBinding.Consumer=\"{}\",Filter=\"{}\"", escape_key(&consumer), escape_key(&filter));
                let props = vec![("Filter", Value::string(filter)), ("Consumer", Value::string(consumer)), ("DeliverSynchronously", Value::Bool(false))];
                object(cx, "__FilterToConsumerBinding", rel, props, Handle::Binding { filter: b.filter.clone(), consumer: b.consumer.clone() })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Delete()` (and `Put()`, not served) of a subscription object.
pub fn method(cx: &mut Ctx<'_>, handle: &Handle, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
    if name.eq_ignore_ascii_case("Put") || name.eq_ignore_ascii_case("CopyTo") {
        return Some(Err(NetError::exception("System.NotSupportedException", format!("The cauterize lab's PowerShell engine does not serve ManagementObject.{name} yet."))));
    }
    if !name.eq_ignore_ascii_case("Delete") {
        return None;
    }
    Some(Args::new(args).count(&[0]).and_then(|_| delete(cx, handle)))
}

fn delete(cx: &mut Ctx<'_>, handle: &Handle) -> NetResult<Value> {
    let w = &cx.host.wmi;
    let exists = match handle {
        Handle::Filter(n) => w.filters.iter().any(|f| f.name.eq_ignore_ascii_case(n)),
        Handle::Consumer { class, name } => w.consumers.iter().any(|c| c.class() == *class && c.name().eq_ignore_ascii_case(name)),
        Handle::Binding { filter, consumer } => w.bindings.iter().any(|b| b.filter.eq_ignore_ascii_case(filter) && b.consumer.eq_ignore_ascii_case(consumer)),
        _ => false,
    };
    if !exists {
        return Err(not_found());
    }
    if !cx.admin {
        return Err(NetError::exception("System.Management.ManagementException", "Access denied "));
    }
    let w = &mut cx.host.wmi;
    match handle {
        Handle::Filter(n) => drop(w.remove_filter(n)),
        Handle::Consumer { class, name } => drop(w.remove_consumer(class, name)),
        Handle::Binding { filter, consumer } => drop(w.remove_binding(filter, consumer)),
        _ => {}
    }
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, run_with};
    use crate::lab::world::HostState;
    use crate::lab::world::wmi::{Consumer, EventFilter};

    fn plant(w: &mut HostState) {
        let f = EventFilter::new("Evil \"F\"", "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'");
        let c = Consumer::CommandLine { name: "EvilC".into(), command_line_template: r"C:\x\evil.exe".into(), executable_path: None };
        w.wmi.subscribe(f, c);
        let s = Consumer::ActiveScript { name: "Lonely".into(), scripting_engine: "VBScript".into(), script_text: "CreateObject(1)".into() };
        w.wmi.put_consumer(s);
    }

    fn v5(script: &str) -> (crate::lab::powershell::tests::Run, HostState) {
        run_with("5.1.19041.1", plant, &format!("$ns = 'root\\subscription'; {script}"))
    }

    /// `__EventConsumer` lists every consumer with its concrete class;
    /// binding paths escape the key (`Name="Evil \"F\""`).
    #[test]
    fn subscriptions_list_with_concrete_classes_and_escaped_paths() {
        let (r, _) = v5(concat!(
            "$c = @(Get-WmiObject -Namespace $ns -Class __EventConsumer); $c.Count; $c[0].__CLASS; $c[1].__CLASS; $c[1].scripttext; ",
            "$b = @(Get-WmiObject -Namespace $ns -Class __FilterToConsumerBinding); $b[0].Filter; $b[0].Consumer; ",
            "(Get-WmiObject -Namespace $ns -Class __EventFilter).__RELPATH; @(Get-WmiObject -Class __EventFilter).Count; ",
            "@(Get-WmiObject -Namespace $ns -Class CommandLineEventConsumer).Count"
        ));
        prints(&r, &["2", "CommandLineEventConsumer", "ActiveScriptEventConsumer", "CreateObject(1)", r#"__EventFilter.Name="Evil \"F\"""#, r#"CommandLineEventConsumer.Name="EvilC""#, r#"__EventFilter.Name="Evil \"F\"""#, "0", "1"]);
    }

    /// Delete() returns nothing; deleting again throws "Not found ".
    #[test]
    fn delete_removes_and_a_second_delete_is_not_found() {
        let (r, w) = v5(concat!(
            "$b = Get-WmiObject -Namespace $ns -Class __FilterToConsumerBinding; $b.Delete(); 'deleted'; ",
            "try { $b.Delete() } catch { $_.Exception.InnerException.Message }; ",
            "(Get-WmiObject -Namespace $ns -Class __EventFilter).Delete(); @(Get-WmiObject -Namespace $ns -Class __EventFilter).Count"
        ));
        prints(&r, &["deleted", "Not found ", "0"]);
        assert!(w.wmi.bindings.is_empty() && w.wmi.filters.is_empty());
        assert_eq!(w.wmi.consumers.len(), 2);
    }

    #[test]
    fn a_win32_class_in_root_subscription_is_invalid() {
        let (r, _) = v5("Get-WmiObject -Namespace $ns -Class Win32_Process -ErrorAction Stop");
        assert!(r.flat().contains("Invalid class \"Win32_Process\""), "{}", r.err);
    }
}
