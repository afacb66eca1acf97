//! WMI permanent event subscriptions in `root\subscription`: event
//! filters (`__EventFilter`: name, WQL query), consumers
//! (`CommandLineEventConsumer` with a command line,
//! `ActiveScriptEventConsumer` with script text) and the
//! `__FilterToConsumerBinding`s that connect them. As in WMI, removing a
//! filter or consumer does not remove bindings that refer to it (they
//! dangle, and collection should report them).

use super::ci::eq_ci;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub name: String,
    /// e.g. `SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'`.
    pub query: String,
    pub query_language: String,
    /// `root\cimv2` usually.
    pub event_namespace: String,
}

impl EventFilter {
    pub fn new(name: &str, query: &str) -> EventFilter {
        EventFilter {
            name: name.into(),
            query: query.into(),
            query_language: "WQL".into(),
            event_namespace: r"root\cimv2".into(),
        }
    }
    /// `__EventFilter.Name="<name>"`.
    pub fn rel_path(&self) -> String {
        format!("__EventFilter.Name=\"{}\"", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumer {
    CommandLine {
        name: String,
        command_line_template: String,
        executable_path: Option<String>,
    },
    ActiveScript {
        name: String,
        scripting_engine: String,
        script_text: String,
    },
}

impl Consumer {
    pub fn name(&self) -> &str {
        match self {
            Consumer::CommandLine { name, .. } | Consumer::ActiveScript { name, .. } => name,
        }
    }
    pub fn class(&self) -> &'static str {
        match self {
            Consumer::CommandLine { .. } => "CommandLineEventConsumer",
            Consumer::ActiveScript { .. } => "ActiveScriptEventConsumer",
        }
    }
    /// `CommandLineEventConsumer.Name="<name>"`.
    pub fn rel_path(&self) -> String {
        format!("{}.Name=\"{}\"", self.class(), self.name())
    }
}

/// `__FilterToConsumerBinding`: relative paths of both ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub filter: String,
    pub consumer: String,
}

impl Binding {
    pub fn new(f: &EventFilter, c: &Consumer) -> Binding {
        Binding {
            filter: f.rel_path(),
            consumer: c.rel_path(),
        }
    }
}

/// `root\subscription`.
#[derive(Debug, Clone, Default)]
pub struct WmiSubscriptions {
    pub filters: Vec<EventFilter>,
    pub consumers: Vec<Consumer>,
    pub bindings: Vec<Binding>,
}

impl WmiSubscriptions {
    /// Put (create or replace by name), like `Set-WmiInstance`.
    pub fn put_filter(&mut self, f: EventFilter) {
        self.filters.retain(|x| !eq_ci(&x.name, &f.name));
        self.filters.push(f);
    }
    pub fn put_consumer(&mut self, c: Consumer) {
        self.consumers
            .retain(|x| !(x.class() == c.class() && eq_ci(x.name(), c.name())));
        self.consumers.push(c);
    }
    pub fn put_binding(&mut self, b: Binding) {
        if !self
            .bindings
            .iter()
            .any(|x| eq_ci(&x.filter, &b.filter) && eq_ci(&x.consumer, &b.consumer))
        {
            self.bindings.push(b);
        }
    }
    /// Filter, consumer and binding in one go (what malware does).
    pub fn subscribe(&mut self, f: EventFilter, c: Consumer) {
        let b = Binding::new(&f, &c);
        self.put_filter(f);
        self.put_consumer(c);
        self.put_binding(b);
    }
    pub fn remove_filter(&mut self, name: &str) -> Option<EventFilter> {
        let i = self.filters.iter().position(|x| eq_ci(&x.name, name))?;
        Some(self.filters.remove(i))
    }
    pub fn remove_consumer(&mut self, class: &str, name: &str) -> Option<Consumer> {
        let i = self
            .consumers
            .iter()
            .position(|x| eq_ci(x.class(), class) && eq_ci(x.name(), name))?;
        Some(self.consumers.remove(i))
    }
    pub fn remove_binding(&mut self, filter: &str, consumer: &str) -> Option<Binding> {
        let i = self
            .bindings
            .iter()
            .position(|x| eq_ci(&x.filter, filter) && eq_ci(&x.consumer, consumer))?;
        Some(self.bindings.remove(i))
    }
    /// Bindings whose filter and consumer both exist: live subscriptions.
    pub fn live(&self) -> Vec<(&EventFilter, &Consumer)> {
        self.bindings
            .iter()
            .filter_map(|b| {
                let f = self
                    .filters
                    .iter()
                    .find(|f| eq_ci(&f.rel_path(), &b.filter))?;
                let c = self
                    .consumers
                    .iter()
                    .find(|c| eq_ci(&c.rel_path(), &b.consumer))?;
                Some((f, c))
            })
            .collect()
    }
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty() && self.consumers.is_empty() && self.bindings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_lifecycle_and_dangling_binding() {
        let mut w = WmiSubscriptions::default();
        let f = EventFilter::new(
            "Updater",
            "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'",
        );
        let c = Consumer::CommandLine {
            name: "Updater".into(),
            command_line_template: r"regsvr32.exe /s C:\ProgramData\x.dll".into(),
            executable_path: None,
        };
        w.subscribe(f, c);
        w.put_consumer(Consumer::ActiveScript {
            name: "Updater".into(),
            scripting_engine: "VBScript".into(),
            script_text: "CreateObject(\"WScript.Shell\")".into(),
        });
        assert_eq!(w.consumers.len(), 2); // same name, different class
        assert_eq!(w.live().len(), 1);
        assert_eq!(
            w.bindings[0].consumer,
            "CommandLineEventConsumer.Name=\"Updater\""
        );
        w.remove_filter("updater").unwrap();
        assert!(w.live().is_empty());
        assert_eq!(w.bindings.len(), 1); // dangling
        w.remove_binding(
            "__EventFilter.Name=\"Updater\"",
            "CommandLineEventConsumer.Name=\"Updater\"",
        )
        .unwrap();
        w.remove_consumer("CommandLineEventConsumer", "UPDATER")
            .unwrap();
        w.remove_consumer("ActiveScriptEventConsumer", "Updater")
            .unwrap();
        assert!(w.is_empty());
    }
}
