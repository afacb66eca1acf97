//! IcedID (Unit 42 2021-2022, Splunk): a `{GUID}` task with logon and
//! hourly triggers running `rundll32 "<dll>",update /i:"<WordWord>\license.dat"`
//! (2021) or `rundll32 "<dll>",#1 --<rand>="<data file>"` (2022); the bot
//! core is `%APPDATA%\<WordWord>\license.dat`.

use super::super::command_line::Launcher;
use super::super::facts::{Facts, Launch, Source};
use super::super::names;
use super::super::paths::{self, Area};
use super::super::evidence::{Evidence as E, Grounds};
use super::super::{ArtifactRef, Confidence, Family, Finding};
use super::runs_words;

pub(crate) fn launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    for p in &l.parsed.payloads {
        if p.via != Launcher::Rundll32 {
            continue;
        }
        let place = f.place(&p.path);
        if !place.user_writable() {
            continue;
        }
        let export = p.export.clone().unwrap_or_default();
        let mut data: Option<String> = None;
        let mut form = "";
        if export.eq_ignore_ascii_case("update") {
            if let Some(a) = p
                .args
                .iter()
                .find(|a| a.to_ascii_lowercase().starts_with("/i:"))
            {
                data = Some(a[3..].trim_matches('"').to_string());
                form = "entry point update with /i:<data file>, IcedID's 2021 form";
            }
        } else if export.starts_with('#')
            && let Some(a) = p
                .args
                .iter()
                .find(|a| a.starts_with("--") && a.contains('='))
        {
            let (k, v) = a[2..].split_once('=').unwrap_or(("", ""));
            if names::is_alpha(k) {
                data = Some(v.trim_matches('"').to_string());
                form = "an ordinal entry point with --<random>=<data file>, IcedID's 2022 form";
            }
        }
        let Some(d) = data else { continue };
        let mut targets = vec![f.long_path(&p.path)];
        // Where the data file is, as the parser resolved it for the account
        // the launch runs as (a relative one under its %APPDATA%: SYSTEM's
        // is the systemprofile's, in whichever WOW64 view holds it).
        let written = paths::normalize(&d);
        let candidates: Vec<String> = p
            .data
            .iter()
            .find(|x| x.written.eq_ignore_ascii_case(&written))
            .map(|x| x.candidates.clone())
            .unwrap_or_default();
        let data_path = candidates
            .iter()
            .find(|c| f.exists(c))
            .or(candidates.first())
            .map(|c| f.long_path(c))
            .unwrap_or(written);
        targets.push(data_path.clone());
        let mut reasons = vec![format!(
            "{}: {form}; the data file is {data_path}",
            runs_words(l, p)
        )];
        if paths::file_name(&data_path).eq_ignore_ascii_case("license.dat") {
            reasons.push("license.dat holds the encrypted IcedID bot; the DLL is inert without it: remove both".to_string());
        }
        if let Source::Task(t) = l.source {
            if names::is_guid(&l.name) {
                reasons.push(format!(
                    "the task is named with a GUID ({}), as IcedID's are",
                    t.path
                ));
            }
            if t.triggers
                .iter()
                .any(|x| x.to_ascii_lowercase().contains("logon"))
                && t.triggers.iter().any(|x| x.contains("PT1H"))
            {
                reasons.push("it runs at logon and every hour".to_string());
            }
        }
        out.push(Finding::new(
            &f.host,
            l.artifact.clone(),
            Family::IcedId,
            "ICE-RUNDLL32-DATAFILE",
            // IcedID's documented command form (a DLL told where its
            // encrypted bot is), from a user-writable folder.
            Grounds::of(&[E::LoaderCommand, E::FolderShape]),
            reasons,
            targets,
        ));
    }
}

pub(crate) fn host(f: &Facts, out: &mut Vec<Finding>) {
    for ff in &f.snap.files {
        if ff.is_dir
            || !ff.exists
            || !paths::file_name(&ff.path).eq_ignore_ascii_case("license.dat")
        {
            continue;
        }
        let place = f.place(&ff.path);
        if !matches!(place.area, Area::RoamingAppData | Area::ProgramData) || place.rel.len() != 2 {
            continue;
        }
        let folder = &place.rel[0];
        if !names::icedid_wordword(folder) || names::known_product(folder) {
            continue;
        }
        let n = paths::normalize(&ff.path);
        let others = f.dir_entries(paths::parent(&n)).len();
        let grounds = if others <= 1 {
            Grounds::of(&[E::NameShape, E::FolderShape])
        } else {
            Grounds::of(&[E::NameShape, E::FolderShape]).at_most(Confidence::Low)
        };
        out.push(Finding::new(
            &f.host,
            ArtifactRef::File { path: n.clone() },
            Family::IcedId,
            "ICE-LICENSE-DAT",
            grounds,
            vec![format!("{n}: a license.dat alone in a two-word folder ({folder}) directly under %APPDATA%, where IcedID keeps its encrypted bot")],
            vec![n.clone(), paths::parent(&n).to_string()],
        ));
    }
}
