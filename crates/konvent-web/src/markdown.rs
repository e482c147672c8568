//! Markdown of resolutions and reports, rendered safely: raw HTML in the source is shown
//! as text, and links keep only http(s), mailto and relative targets.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, html};

fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || lower.starts_with('/')
        || lower.starts_with('#')
}

/// HTML for a Markdown text; safe to insert into a page unescaped.
pub fn to_html(source: &str) -> String {
    render(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
        false,
    )
}

/// Markdown-lite for chat lines and messages: emphasis, code, links and lists; no
/// headings or tables (a "# " line is a paragraph), no raw HTML, no images.
pub fn chat_to_html(source: &str) -> String {
    render(source, Options::ENABLE_STRIKETHROUGH, true)
}

fn render(source: &str, options: Options, flatten_headings: bool) -> String {
    let parser = Parser::new_ext(source, options).map(|event| match event {
        Event::Start(Tag::Heading { .. }) if flatten_headings => Event::Start(Tag::Paragraph),
        Event::End(pulldown_cmark::TagEnd::Heading(_)) if flatten_headings => {
            Event::End(pulldown_cmark::TagEnd::Paragraph)
        }
        // Raw HTML becomes visible text, escaped by the renderer.
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        // An e-mail autolink (`<info@fitko.de>`) has the bare address as its target; the
        // renderer writes `mailto:` before it.
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if link_type != LinkType::Email && !safe_link(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image { dest_url, .. }) => {
            // Images would load from anywhere: show their address as text instead.
            Event::Text(dest_url)
        }
        Event::End(pulldown_cmark::TagEnd::Image) => Event::Text(CowStr::Borrowed("")),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::{chat_to_html, to_html};

    #[test]
    fn chat_lines_get_markdown_lite_and_never_html() {
        assert_eq!(
            chat_to_html("**wichtig**"),
            "<p><strong>wichtig</strong></p>\n"
        );
        assert_eq!(chat_to_html("# Laut"), "<p>Laut</p>\n");
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "![x](https://tracker.example/p.gif)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg/onload=alert(1)>",
        ] {
            let html = chat_to_html(attack);
            for bad in ["<script", "<img", "<a href=\"javascript:", "<svg"] {
                assert!(!html.contains(bad), "{attack} gave {html}");
            }
        }
    }

    #[test]
    fn markdown_is_rendered() {
        assert_eq!(
            to_html("**Beschluss**"),
            "<p><strong>Beschluss</strong></p>\n"
        );
        assert!(to_html("- a\n- b").contains("<li>a</li>"));
    }

    #[test]
    fn html_in_the_source_is_shown_as_text_never_run() {
        let html = to_html("<script>alert(1)</script> und <img src=x onerror=alert(1)>");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn an_email_autolink_keeps_its_address() {
        assert!(
            chat_to_html("<info@fitko.de>").contains("href=\"mailto:info@fitko.de\""),
            "{}",
            chat_to_html("<info@fitko.de>")
        );
    }

    #[test]
    fn dangerous_links_are_disarmed() {
        let html = to_html("[klick](javascript:alert(1)) [ok](https://www.it-planungsrat.de)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://www.it-planungsrat.de\""));
        assert!(!to_html("![x](https://evil.example/p.png)").contains("<img"));
    }

    /// Every tag in `html` is one the renderer may write, every attribute one of its
    /// harmless ones, and every link target one of the allowed kinds.
    fn assert_harmless(source: &str, html: &str, allowed: &[&str]) {
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let end = rest[start..]
                .find('>')
                .map(|e| start + e)
                .unwrap_or_else(|| panic!("unclosed tag in {html:?} from {source:?}"));
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            let tag = tag.strip_prefix('/').unwrap_or(tag);
            let tag = tag.strip_suffix(" /").unwrap_or(tag);
            let (name, attributes) = tag.split_once(' ').unwrap_or((tag, ""));
            assert!(
                allowed.contains(&name),
                "tag <{name}> in {html:?} from {source:?}"
            );
            // Attributes come as name="value" with the value escaped, separated by
            // single spaces.
            let mut attributes = attributes;
            while !attributes.is_empty() {
                let (attribute, value_and_rest) = attributes
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("attribute without value in {html:?}"));
                let (value, after) = value_and_rest
                    .split_once('"')
                    .unwrap_or_else(|| panic!("unterminated attribute in {html:?}"));
                attributes = after.trim_start();
                match attribute {
                    "href" => assert!(
                        super::safe_link(value)
                            && !value.to_ascii_lowercase().contains("javascript:"),
                        "href {value:?} from {source:?}"
                    ),
                    "title" | "start" => {}
                    "style" => assert!(value.starts_with("text-align: "), "{html:?}"),
                    "class" => assert!(value.starts_with("language-"), "{html:?}"),
                    other => panic!("attribute {other} in {html:?} from {source:?}"),
                }
            }
        }
        assert!(!html.to_ascii_lowercase().contains("<script"), "{html:?}");
    }

    const BLOCKS: [&str; 18] = [
        "p",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "hr",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
    ];

    #[test]
    fn fuzz_markdown_gives_harmless_html() {
        let mut allowed = BLOCKS.to_vec();
        allowed.extend(["h6", "table", "thead", "tbody", "tr", "th", "td"]);
        // Lossy: random bytes still give text with Markdown's ASCII syntax in it.
        bolero::check!().for_each(|bytes: &[u8]| {
            let source = String::from_utf8_lossy(bytes);
            assert_harmless(&source, &to_html(&source), &allowed);
        });
    }

    #[test]
    fn fuzz_chat_markdown_gives_harmless_html_without_headings_or_tables() {
        let allowed: Vec<&str> = BLOCKS
            .into_iter()
            .filter(|t| !t.starts_with('h') || *t == "hr")
            .collect();
        bolero::check!().for_each(|bytes: &[u8]| {
            let source = String::from_utf8_lossy(bytes);
            assert_harmless(&source, &chat_to_html(&source), &allowed);
        });
    }
}
