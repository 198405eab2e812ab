//! The registration page's HTML: a form and a success page, rendered on the server. Every
//! value from a request is escaped; the password is never written back.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head><body><main>\n<h1>{}</h1>\n{body}</main></body></html>\n",
        escape(title),
        escape(title)
    )
}

/// What the form shows.
#[derive(Debug)]
pub struct Form<'a> {
    pub domains: &'a [String],
    pub token: &'a str,
    pub min_password: usize,
    pub username: &'a str,
    pub domain: &'a str,
    pub error: Option<&'a str>,
}

/// The registration form, with the password rules and, after a refusal, why.
pub fn form(form: &Form<'_>) -> String {
    let mut body = String::new();
    if let Some(error) = form.error {
        body.push_str(&format!(
            "<p role=\"alert\" id=\"error\">{}</p>\n",
            escape(error)
        ));
    }
    body.push_str("<form method=\"post\" action=\"/register\">\n");
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
        escape(form.token)
    ));
    body.push_str(&format!(
        "<p><label for=\"username\">Username</label> \
         <input id=\"username\" name=\"username\" required maxlength=\"64\" \
         autocomplete=\"username\" value=\"{}\"> @ ",
        escape(form.username)
    ));
    body.push_str("<select id=\"domain\" name=\"domain\">");
    for domain in form.domains {
        let selected = if domain == form.domain {
            " selected"
        } else {
            ""
        };
        body.push_str(&format!(
            "<option value=\"{0}\"{selected}>{0}</option>",
            escape(domain)
        ));
    }
    body.push_str("</select></p>\n");
    body.push_str(&format!(
        "<p><label for=\"password\">Password</label> \
         <input id=\"password\" name=\"password\" type=\"password\" required \
         minlength=\"{0}\" autocomplete=\"new-password\"></p>\n\
         <p><label for=\"confirm\">Password again</label> \
         <input id=\"confirm\" name=\"confirm\" type=\"password\" required \
         minlength=\"{0}\" autocomplete=\"new-password\"></p>\n\
         <ul id=\"rules\"><li>The password needs at least {0} characters.</li>\
         <li>No control characters (tabs, line breaks).</li>\
         <li>The username may not contain spaces or any of <code>\" &amp; ' / : &lt; &gt; @</code>.</li></ul>\n\
         <p><button type=\"submit\" id=\"submit\">Create account</button></p>\n</form>\n",
        form.min_password
    ));
    page("Create an account", &body)
}

/// The page after an account was created.
pub fn success(jid: &str) -> String {
    let body = format!(
        "<p id=\"success\">Your account <strong id=\"jid\">{}</strong> is ready. \
         Sign in with it in any XMPP client.</p>\n",
        escape(jid)
    );
    page("Account created", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_rules_shown() {
        let domains = ["example.test".to_owned()];
        let html = form(&Form {
            domains: &domains,
            token: "t",
            min_password: 12,
            username: "\"><script>",
            domain: "example.test",
            error: Some("<b>no</b>"),
        });
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("&lt;b&gt;no&lt;/b&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("at least 12 characters"));
        assert!(html.contains("<option value=\"example.test\" selected>"));
    }
}
