//! `casbah notify` (issue 12, R-G11): where alerts and import notices are sent.

use std::io::IsTerminal;

use super::args::{NotifyCommand, SmtpArgs, WebhookArgs};
use super::output::{print_json, print_table, short_time};
use super::secret::{SECRET_ENV, read_labelled};
use super::{Failure, Outcome};
use crate::service::{
    Service, SmtpConfig, SmtpSecurity, TestChannel, WebhookConfig, WebhookFormat,
};

const URL_ENV: &str = "CASBAH_WEBHOOK_URL";

pub async fn run(command: NotifyCommand, svc: &Service) -> Outcome {
    match command {
        NotifyCommand::Show(f) => show(svc, f.json).await,
        NotifyCommand::Smtp(a) => smtp(svc, a).await,
        NotifyCommand::Webhook(a) => webhook(svc, a).await,
        NotifyCommand::Retry => {
            let n = svc.retry_notices().await?;
            let sent = svc.deliver_notices().await?;
            println!(
                "{n} notice(s) tried again, {sent} delivered (`casbah notify show` lists the rest)"
            );
            Ok(())
        }
        NotifyCommand::Test { webhook, .. } => {
            let channel = if webhook {
                TestChannel::Webhook
            } else {
                TestChannel::Email
            };
            println!("{}", svc.send_test_notice(channel).await?);
            Ok(())
        }
    }
}

async fn show(svc: &Service, json: bool) -> Outcome {
    let settings = svc.notice_settings().await?;
    let failing: Vec<_> = svc
        .deliveries()
        .await?
        .into_iter()
        .filter(|d| d.is_failing())
        .collect();
    if json {
        return print_json(&serde_json::json!({ "settings": settings, "failing": failing }));
    }
    match &settings.smtp {
        Some(s) => println!(
            "e-mail   {}:{} ({:?}), from {}, to {}{}",
            s.host,
            s.port,
            s.security,
            s.from,
            if s.to.is_empty() {
                "(each policy's addresses)".into()
            } else {
                s.to.join(", ")
            },
            if settings.smtp_password {
                ", signs in with a stored password"
            } else {
                ""
            }
        ),
        None => println!("e-mail   not set (`casbah notify smtp`)"),
    }
    match &settings.webhook {
        Some(url) => println!(
            "webhook  {url} ({:?}){}",
            settings.webhook_format.unwrap_or(WebhookFormat::Json),
            if settings.webhook_signed {
                ", signed"
            } else {
                ""
            }
        ),
        None => println!("webhook  not set (`casbah notify webhook`)"),
    }
    if !failing.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = failing
            .iter()
            .map(|d| {
                vec![
                    d.alert.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                    short_time(Some(d.created_at)),
                    d.describe(),
                ]
            })
            .collect();
        print_table(&["ALERT", "QUEUED", "NOTICE"], &rows);
    }
    Ok(())
}

async fn smtp(svc: &Service, a: SmtpArgs) -> Outcome {
    if a.remove {
        svc.set_smtp(None, None).await?;
        println!("e-mail notices are off");
        return Ok(());
    }
    let security = match a.security.trim().to_ascii_lowercase().as_str() {
        "tls" => SmtpSecurity::Tls,
        "starttls" | "start-tls" => SmtpSecurity::StartTls,
        "plain" | "none" => SmtpSecurity::Plain,
        other => {
            return Err(Failure::Usage(format!(
                "no SMTP security {other:?}; use tls, starttls or plain"
            )));
        }
    };
    let port = a.port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Plain => 25,
    });
    let password = match &a.user {
        Some(_) => Some(read_labelled(
            "SMTP password",
            false,
            (a.password_file.as_deref(), "--password-file"),
            SECRET_ENV,
        )?),
        None => None,
    };
    let config = SmtpConfig {
        host: a.host.unwrap_or_default(),
        port,
        security,
        user: a.user,
        from: a.from.unwrap_or_default(),
        to: a.to,
    };
    svc.set_smtp(Some(config), password).await?;
    println!("e-mail notices go through this relay; `casbah notify test` sends one");
    Ok(())
}

async fn webhook(svc: &Service, a: WebhookArgs) -> Outcome {
    if a.remove {
        svc.set_webhook(None, None).await?;
        println!("webhook notices are off");
        return Ok(());
    }
    let format = match a.format.trim().to_ascii_lowercase().as_str() {
        "json" => WebhookFormat::Json,
        "text" | "slack" | "teams" => WebhookFormat::Text,
        other => {
            return Err(Failure::Usage(format!(
                "no webhook format {other:?}; use json or text"
            )));
        }
    };
    if a.url_file.is_none()
        && a.secret_file.is_none()
        && a.sign
        && !std::io::stdin().is_terminal()
        && std::env::var(URL_ENV).is_err()
    {
        return Err(Failure::Usage(format!(
            "both the URL and the signing secret would come from stdin; pass --url-file or set {URL_ENV}"
        )));
    }
    let url = read_labelled(
        "Webhook URL",
        false,
        (a.url_file.as_deref(), "--url-file"),
        URL_ENV,
    )?;
    let secret = match a.sign {
        true => Some(read_labelled(
            "Signing secret",
            false,
            (a.secret_file.as_deref(), "--secret-file"),
            SECRET_ENV,
        )?),
        false => None,
    };
    let config = WebhookConfig {
        url: url.expose().to_string(),
        format,
    };
    svc.set_webhook(Some(config), secret).await?;
    println!(
        "alerts that ask for it are posted to the webhook; `casbah notify test --webhook` sends one"
    );
    Ok(())
}
