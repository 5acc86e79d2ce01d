//! `POST /consent`: the End-User's decision on the consent page (the first button approves,
//! the second denies); an approval is remembered for the client and scope.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use oidc_hybrid::{Consent, Step};
use oidc_hybrid_axum::Authentication;
use tracing::info;

use crate::DemoStore;
use crate::form::read_form;
use crate::host::DemoEndpoints;
use crate::session::Sessions;

/// `POST /consent`: the first button approves, the second denies.
pub(crate) async fn consent<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (parts, body) = request.into_parts();
    let form = match read_form(host.base_path(), &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let now = endpoints.now();
    let (iid, waiting, pending) = match host.take_pending(&parts, &form, Step::Consent, now) {
        Ok(taken) => taken,
        Err(response) => return response,
    };
    let sessions = host.sessions();
    let user = sessions.user(&parts, now).await;
    let Some(user) = user else {
        return endpoints
            .resume(pending.request, None, Consent::Missing, &parts)
            .await;
    };
    let mut authentication =
        Authentication::new(user.subject.clone(), user.auth_time).with_amr(["pwd"]);
    authentication.sid = Sessions::sid(&parts);
    let client_id = pending.request.client_id().clone();
    match form.get("decision") {
        Some("approve") => {
            host.remember_consent(&user.subject, &client_id, pending.request.scope());
            info!(subject = %user.subject, client_id = %client_id, "consent given");
            endpoints
                .approve(pending.request, authentication.approval())
                .await
        }
        Some("deny") => {
            info!(subject = %user.subject, client_id = %client_id, "consent refused");
            endpoints.deny(pending.request)
        }
        _ => {
            sessions.with_interaction(&iid, now, |i| i.restore_pending(waiting, pending));
            host.problem(
                StatusCode::BAD_REQUEST,
                "No decision",
                "Choose Allow or Deny on the consent page.",
            )
        }
    }
}
