//! The 人民调解协议书 (People's Mediation agreement) as one printable HTML
//! page in the standard layout: number, parties with their details, the
//! facts and the dispute, the terms, how and by when each obligation is
//! performed, the signature lines of the parties and the mediator, the
//! committee's seal and the date; A4 print CSS. Every text is escaped.
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::{rules::Party, view::MediationView};
use crate::{
    error::{Error, Result},
    vocab::{AgreementForm, PartyRole},
};

/// `&`, `<`, `>`, `"` and `'` as entities: stored text never becomes markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
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

/// Paragraphs of a multi-line text, escaped.
fn paragraphs(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", escape(l.trim())))
        .collect()
}

fn zh_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// The Beijing date of an instant.
fn beijing_date(t: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => zh_date(t.with_timezone(&tz).date_naive()),
        None => zh_date(t.date_naive()),
    }
}

fn role_zh(r: PartyRole) -> &'static str {
    match r {
        PartyRole::Applicant => "申请人",
        PartyRole::Respondent => "被申请人",
        PartyRole::Other => "其他当事人",
    }
}

fn party_line(p: &Party) -> String {
    let mut bits = vec![format!(
        "<span class=\"role\">{}</span>：<span class=\"name\">{}</span>",
        role_zh(p.role),
        escape(&p.name)
    )];
    if let Some(v) = &p.phone {
        bits.push(format!("联系电话：{}", escape(v)));
    }
    if let Some(v) = &p.id_number {
        bits.push(format!("公民身份号码：{}", escape(v)));
    }
    if let Some(v) = &p.address {
        bits.push(format!("住址：{}", escape(v)));
    }
    format!("<p class=\"party\">{}</p>", bits.join("，"))
}

const STYLE: &str = "@page{size:A4;margin:20mm 20mm 18mm 20mm}\
*{box-sizing:border-box}\
body{font-family:'Noto Serif CJK SC','Noto Sans CJK SC','Source Han Serif SC',SimSun,serif;\
font-size:14pt;line-height:1.7;color:#000;max-width:170mm;margin:0 auto;padding:6mm 0}\
h1{text-align:center;font-size:22pt;letter-spacing:.4em;margin:0 0 4mm}\
.no{text-align:right;margin:0 0 6mm}\
h2{font-size:14pt;margin:6mm 0 1mm}\
p{margin:0 0 2mm;text-indent:2em}\
p.party{text-indent:0}\
ol{margin:0 0 2mm 2em;padding:0}\
.end{break-inside:avoid;page-break-inside:avoid}\
.signs{margin-top:8mm;display:grid;grid-template-columns:1fr 1fr;gap:6mm 12mm}\
.signs p{text-indent:0;border-bottom:1px solid #000;padding-bottom:5mm;margin:0}\
.seal{margin-top:10mm;text-align:right;text-indent:0}\
.date{text-align:right;text-indent:0}\
@media print{body{padding:0}}";

/// The agreement document of a mediation that has one.
pub fn render(committee: &str, v: &MediationView) -> Result<String> {
    let a = v
        .agreement
        .as_ref()
        .ok_or_else(|| Error::InvalidTransition("no agreement is recorded".into()))?;
    let title = match a.form {
        AgreementForm::Written => "人民调解协议书",
        AgreementForm::Oral => "人民调解口头协议登记",
    };
    let parties: String = v.parties.iter().map(party_line).collect();
    let performance: String = if a.obligations.is_empty() {
        "<p>本协议自生效之日起即时履行。</p>".to_string()
    } else {
        let items: String = a
            .obligations
            .iter()
            .map(|o| {
                format!(
                    "<li>{}：{}，于{}前履行完毕。</li>",
                    escape(&o.party),
                    escape(&o.text),
                    beijing_date(o.due_at)
                )
            })
            .collect();
        format!("<ol class=\"obligations\">{items}</ol>")
    };
    let signs: String = v
        .parties
        .iter()
        .map(|p| format!("<p>{}（签名或按指印）：</p>", role_zh(p.role)))
        .chain(std::iter::once("<p>人民调解员（签名）：</p>".to_string()))
        .chain(std::iter::once("<p>记录人（签名）：</p>".to_string()))
        .collect();
    let committee = escape(committee);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<title>{title} {number}</title><style>{STYLE}</style></head><body>\
<h1>{title}</h1>\
<p class=\"no\">{committee}　编号：{number}</p>\
<h2>当事人</h2>{parties}\
<h2>纠纷主要事实、争议事项</h2>{facts}{dispute}\
<h2>经本委员会调解，双方当事人自愿达成如下协议：</h2>{terms}\
<h2>履行协议的方式、期限</h2>{performance}\
<p>本协议自{effective}起生效。本协议一式三份，双方当事人、人民调解委员会各持一份。\
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。</p>\
<div class=\"end\"><div class=\"signs\">{signs}</div>\
<p class=\"seal\">{committee}（印章）</p>\
<p class=\"date\">{effective}</p></div>\
</body></html>\n",
        number = escape(a.number.as_deref().unwrap_or("—")),
        facts = paragraphs(&a.facts),
        dispute = paragraphs(&v.dispute),
        terms = paragraphs(&a.terms),
        effective = zh_date(a.effective_date),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_never_becomes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(
            paragraphs("甲\n\n<b>乙</b>"),
            "<p>甲</p><p>&lt;b&gt;乙&lt;/b&gt;</p>"
        );
        assert_eq!(
            zh_date(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()),
            "2026年12月2日"
        );
    }
}
