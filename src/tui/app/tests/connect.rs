//! The connect wizard (R-C1…R-C5), with GitHub's device flow.

use std::collections::BTreeMap;

use super::*;

// R-C1, R-C2, R-C3, R-C5: the connect wizard.
#[test]
fn connect_wizard_checks_before_handing_over() {
    let mut app = app();
    typed(&mut app, "1c");
    assert!(app.wizard.is_some());
    // Box, second in the catalog, has no connector yet.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("no connector"))
    );
    let m365 = AppKind::by_display_name()
        .iter()
        .position(|a| *a == AppKind::Microsoft365)
        .expect("in the catalog");
    for _ in 1..m365 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.wizard.as_ref().and_then(|w| w.app),
        Some(AppKind::Microsoft365)
    );
    for value in [
        "contoso",
        "tenant-1",
        "client-1",
        "s3cret",
        "http://127.0.0.1:1",
    ] {
        typed(&mut app, value);
        press(&mut app, KeyCode::Tab);
    }
    // The first component is users-and-groups: switching it off is refused at once (R-C5).
    typed(&mut app, " ");
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("users-and-groups"))
    );
    press(&mut app, KeyCode::Enter);
    assert!(
        app.take_cmds().is_empty(),
        "an impossible selection is not sent"
    );
    typed(&mut app, " ");
    press(&mut app, KeyCode::Enter);
    let cmds = app.take_cmds();
    let [Cmd::Connect { form, secret }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        (
            form.name.as_str(),
            form.fields["tenant-id"].as_str(),
            form.fields["client-id"].as_str()
        ),
        ("contoso", "tenant-1", "client-1")
    );
    assert_eq!(secret, &SecretSource::Given(Secret::new("s3cret")));
    assert_eq!(form.endpoint.as_deref(), Some("http://127.0.0.1:1"));
    app.update(Msg::Done(Done::Connected(Err(Failure {
        message: "bad secret".into(),
        column: None,
    }))));
    assert_eq!(
        app.wizard.as_ref().and_then(|w| w.error.clone()).as_deref(),
        Some("bad secret"),
        "the form stays for another try"
    );
    app.update(Msg::Done(Done::Connected(Ok("contoso".into()))));
    assert!(app.wizard.is_none());
    // R-C2: Microsoft 365 allows one instance.
    app.update(Msg::Done(Done::Instances(Ok(vec![instance(1, "contoso")]))));
    typed(&mut app, "c");
    for _ in 0..m365 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("one instance only"))
    );
}

/// Opens the wizard on `kind`'s form.
fn wizard_on(app: &mut App, kind: AppKind) {
    app.perform(Action::Connect, None);
    if let Some(w) = &mut app.wizard {
        w.cursor.selected = AppKind::by_display_name()
            .iter()
            .position(|a| *a == kind)
            .expect("in the catalog");
    }
    press(app, KeyCode::Enter);
    assert_eq!(app.wizard.as_ref().and_then(|w| w.app), Some(kind));
}

fn code_arrives(app: &mut App, seq: u64, result: Outcome<SignInCode>) {
    app.update(Msg::Done(Done::SignInCode { seq, result }));
}

fn token_arrives(app: &mut App, seq: u64, result: Outcome<Secret>) {
    app.update(Msg::Done(Done::SignedIn { seq, result }));
}

fn wizard(app: &App) -> &Wizard {
    app.wizard.as_ref().expect("the wizard is open")
}

/// The form's fields: key and what was typed.
fn form_fields(app: &App) -> Vec<(String, String)> {
    wizard(app)
        .fields
        .iter()
        .map(|f| (f.key.clone(), f.input.text().to_owned()))
        .collect()
}

/// Types each value into the next field, starting below the focused row.
fn fill(app: &mut App, values: &[&str]) {
    for value in values {
        press(app, KeyCode::Tab);
        typed(app, value);
    }
}

fn paste(app: &mut App, text: &str) {
    app.update(Msg::Paste(text.into()));
}

fn failure(message: &str) -> Failure {
    Failure {
        message: message.into(),
        column: None,
    }
}

/// The one command the last keys or results asked for.
fn one_cmd(app: &mut App) -> Cmd {
    let mut cmds = app.take_cmds();
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    cmds.remove(0)
}

// R-C1: Okta's two methods; the fields follow the method, and what was
// typed into the fields both share stays (a secret never moves across).
#[test]
fn switching_the_method_keeps_the_shared_fields() {
    let mut app = app();
    wizard_on(&mut app, AppKind::Okta);
    assert_eq!(wizard(&app).focus, 0, "the method row comes first");
    fill(&mut app, &["acme", "acme.okta.com", "00token"]);
    for _ in 0..3 {
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::Right);
    assert_eq!(wizard(&app).method, 1);
    let expected = [
        ("name", "acme"),
        ("domain", "acme.okta.com"),
        ("client-id", ""),
        ("private-key", ""),
        ("endpoint", ""),
    ];
    assert_eq!(
        form_fields(&app),
        expected.map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(wizard(&app).method, 0, "space switches too, round");
    let expected = [
        ("name", "acme"),
        ("domain", "acme.okta.com"),
        ("api-token", ""),
        ("endpoint", ""),
    ];
    assert_eq!(
        form_fields(&app),
        expected.map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    press(&mut app, KeyCode::Left);
    assert_eq!(wizard(&app).method, 1, "left wraps round");
    // Microsoft 365 has one method: no method row.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    wizard_on(&mut app, AppKind::Microsoft365);
    assert_eq!(
        wizard(&app).focused_field().map(|f| f.key.as_str()),
        Some("name")
    );
}

// R-C1, R-C3: the form carries the chosen method's fields, by the catalog's names.
#[test]
fn okta_token_and_service_app_send_their_own_fields() {
    let mut app = app();
    wizard_on(&mut app, AppKind::Okta);
    fill(&mut app, &["acme", "acme.okta.com", "00token"]);
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        (form.app, form.name.as_str(), form.endpoint.as_deref()),
        (AppKind::Okta, "acme", None)
    );
    assert_eq!(
        form.fields,
        BTreeMap::from([("domain".to_owned(), "acme.okta.com".to_owned())])
    );
    assert_eq!(secret, SecretSource::Given(Secret::new("00token")));
    // R-C3: refused, the form stays for another try, with another method.
    app.update(Msg::Done(Done::Connected(Err(failure(
        "Okta refused the API token (401); create a new one",
    )))));
    assert_eq!(
        wizard(&app).error.as_deref(),
        Some("Okta refused the API token (401); create a new one")
    );
    for _ in 0..3 {
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::Right);
    fill(&mut app, &["", "", "0oa1client"]);
    press(&mut app, KeyCode::Tab);
    let pem = "-----BEGIN PRIVATE KEY-----\r\nMIIEv\r\n-----END PRIVATE KEY-----\r\n";
    paste(&mut app, pem);
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        form.fields,
        BTreeMap::from([
            ("client-id".to_owned(), "0oa1client".to_owned()),
            ("domain".to_owned(), "acme.okta.com".to_owned()),
        ])
    );
    assert_eq!(
        secret,
        SecretSource::Given(Secret::new(
            "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
        )),
        "a pasted key keeps its lines, as LF"
    );
}

// R-C3: a multiline secret is the path to its file (read by the runtime) or
// the key pasted whole; a paste anywhere else is one line.
#[test]
fn a_key_field_takes_a_path_or_the_pasted_key() {
    let mut app = app();
    wizard_on(&mut app, AppKind::GoogleWorkspace);
    typed(&mut app, "acme");
    press(&mut app, KeyCode::Tab);
    paste(&mut app, "admin@acme.com\r\n");
    fill(&mut app, &["C03abc", ""]);
    paste(&mut app, "~/keys/acme.json\n");
    assert_eq!(
        form_fields(&app)[1],
        ("admin-email".to_owned(), "admin@acme.com".to_owned()),
        "a paste into a one-line field is flattened"
    );
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(secret, SecretSource::File("~/keys/acme.json".into()));
    assert_eq!(
        form.fields.keys().collect::<Vec<_>>(),
        ["admin-email", "customer-id"]
    );
    app.update(Msg::Done(Done::Connected(Err(failure(
        "cannot read the key file ~/keys/acme.json: No such file or directory (os error 2)",
    )))));
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("~/keys/acme.json") && e.lines().count() == 1)
    );
    let json = "{\r\n  \"type\": \"service_account\",\r\n  \"private_key\": \"k\"\r\n}\r\n";
    paste(&mut app, json);
    assert_eq!(
        wizard(&app).focused_field().map(|f| f.input.text()),
        Some(""),
        "the pasted key is not kept as text to edit or show"
    );
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { secret, .. } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        secret,
        SecretSource::Given(Secret::new(
            "{\n  \"type\": \"service_account\",\n  \"private_key\": \"k\"\n}"
        ))
    );
    // Outside the wizard a paste types on one line where a field has the keyboard…
    app.update(Msg::Done(Done::Connected(Ok("acme".into()))));
    app.take_cmds();
    typed(&mut app, "2/");
    paste(&mut app, "fin\nance");
    assert_eq!(app.panes.groups.filter.text(), "fin ance");
    // …and is dropped where none has it, rather than read as keys.
    press(&mut app, KeyCode::Enter);
    paste(&mut app, "q");
    assert_eq!(app.exit, None);
}

/// GitHub's device flow, filled in and asked for a code.
fn github_signing_in(app: &mut App) -> Box<ConnectForm> {
    wizard_on(app, AppKind::Github);
    press(app, KeyCode::Right);
    fill(app, &["acme", "acme-corp", "Iv1.8a61f9b3a7aba766"]);
    press(app, KeyCode::Enter);
    let Cmd::SignIn { form, seq: 1 } = one_cmd(app) else {
        panic!("a sign-in")
    };
    form
}

fn github_code() -> SignInCode {
    SignInCode {
        verification_uri: "https://github.com/login/device".into(),
        user_code: "WDJB-MJHT".into(),
        expires_in: std::time::Duration::from_secs(900),
    }
}

// R-C3: begin → the code shown → a token → the credentials checked with it.
#[test]
fn device_flow_signs_in_then_connects_with_the_token() {
    let mut app = app();
    let form = github_signing_in(&mut app);
    assert_eq!(
        form.fields,
        BTreeMap::from([
            ("client-id".to_owned(), "Iv1.8a61f9b3a7aba766".to_owned()),
            ("organization".to_owned(), "acme-corp".to_owned()),
        ])
    );
    assert_eq!(wizard(&app).stage, Stage::Asking);
    code_arrives(&mut app, 1, Ok(github_code()));
    assert_eq!(
        wizard(&app).stage,
        Stage::Waiting {
            code: github_code(),
            until: NOW + 900_000_000
        }
    );
    typed(&mut app, "x");
    assert!(app.take_cmds().is_empty(), "keys do nothing while waiting");
    token_arrives(&mut app, 1, Ok(Secret::new("gho_token")));
    assert_eq!(
        one_cmd(&mut app),
        Cmd::Connect {
            form,
            secret: SecretSource::Given(Secret::new("gho_token")),
        }
    );
    assert_eq!(wizard(&app).stage, Stage::Checking);
    app.update(Msg::Done(Done::Connected(Ok("acme".into()))));
    assert!(app.wizard.is_none());
}

// R-C3: Esc while waiting cancels the sign-in and connects nothing, even
// if the cancelled sign-in's answer was already on its way.
#[test]
fn esc_while_waiting_cancels_and_connects_nothing() {
    let mut app = app();
    github_signing_in(&mut app);
    code_arrives(&mut app, 1, Ok(github_code()));
    press(&mut app, KeyCode::Esc);
    assert_eq!(one_cmd(&mut app), Cmd::CancelSignIn);
    assert_eq!(wizard(&app).stage, Stage::Editing, "back to the form");
    assert_eq!(form_fields(&app)[1].1, "acme-corp", "as it was filled in");
    token_arrives(&mut app, 1, Ok(Secret::new("gho_late")));
    assert!(app.take_cmds().is_empty(), "a late token connects nothing");
    // A new sign-in ignores the old one's code; its own expires on the clock.
    press(&mut app, KeyCode::Enter);
    assert!(matches!(one_cmd(&mut app), Cmd::SignIn { seq: 2, .. }));
    code_arrives(&mut app, 1, Ok(github_code()));
    assert_eq!(wizard(&app).stage, Stage::Asking);
    let short = SignInCode {
        expires_in: std::time::Duration::from_secs(60),
        ..github_code()
    };
    code_arrives(&mut app, 2, Ok(short));
    app.env.now = NOW + 61_000_000;
    app.update(Msg::Tick);
    assert_eq!(one_cmd(&mut app), Cmd::CancelSignIn);
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("expired"))
    );
}

// R-C3: a refused or denied sign-in is one line in the form, kept for another try.
#[test]
fn a_failed_sign_in_is_one_line_in_the_form() {
    let mut app = app();
    github_signing_in(&mut app);
    code_arrives(
        &mut app,
        1,
        Err(failure(
            "GitHub does not know the client id Iv1.8a61f9b3a7aba766; check the OAuth app",
        )),
    );
    assert_eq!(wizard(&app).stage, Stage::Editing);
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("client id"))
    );
    press(&mut app, KeyCode::Enter);
    assert!(matches!(one_cmd(&mut app), Cmd::SignIn { seq: 2, .. }));
    code_arrives(&mut app, 2, Ok(github_code()));
    token_arrives(
        &mut app,
        2,
        Err(failure(
            "the sign-in was denied at GitHub; press enter to try again",
        )),
    );
    assert!(app.take_cmds().is_empty(), "nothing is connected");
    assert_eq!(
        wizard(&app).error.as_deref(),
        Some("the sign-in was denied at GitHub; press enter to try again")
    );
    assert_eq!(form_fields(&app)[0].1, "acme", "the form is kept");
}
