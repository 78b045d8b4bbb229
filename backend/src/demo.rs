//! `lianxin demo`: a small demo province with real-looking division codes,
//! a unit of every kind where it belongs, and one login per role. Running
//! it twice changes nothing.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    admin::{self, NewUser},
    db::{entities::unit, Db},
    error::Result,
    regions::{self, RegionCode},
    vocab::{Role, UnitKind},
};

/// Every demo account uses this password; `lianxin demo` prints it. It
/// passes the password policy (`auth::password`) like any other, so that
/// tests may give it to accounts they create through the API.
pub const DEMO_PASSWORD: &str = "12338-demo-hotline";

pub const REGIONS: &[(&str, &str)] = &[
    ("450000000000", "广西壮族自治区"),
    ("450300000000", "桂林市"),
    ("450200000000", "柳州市"),
    ("450321000000", "阳朔县"),
    ("450323000000", "灵川县"),
    ("450224000000", "融安县"),
    ("450321100000", "阳朔镇"),
    ("450321101000", "白沙镇"),
    ("450321102000", "福利镇"),
    ("450323100000", "灵川镇"),
    ("450323101000", "大圩镇"),
    ("450224100000", "长安镇"),
    ("450321101201", "遇龙村委会"),
    ("450321101202", "旧县村委会"),
    ("450321102201", "福利村委会"),
    ("450323101201", "熊村村委会"),
    ("450224100201", "大巷村委会"),
];

/// (kind, name, region code, email)
pub const UNITS: &[(UnitKind, &str, &str, &str)] = &[
    (
        UnitKind::HotlineCenter,
        "12338妇女维权热线中心",
        "450000000000",
        "hotline@demo.lianxin",
    ),
    (
        UnitKind::WomensFederation,
        "自治区妇联",
        "450000000000",
        "fulian@demo.lianxin",
    ),
    (
        UnitKind::WomensFederation,
        "阳朔县妇联",
        "450321000000",
        "ys-fulian@demo.lianxin",
    ),
    (
        UnitKind::RightsStation,
        "阳朔镇妇女维权站",
        "450321100000",
        "ysz-station@demo.lianxin",
    ),
    (
        UnitKind::RightsStation,
        "白沙镇妇女维权站",
        "450321101000",
        "bs-station@demo.lianxin",
    ),
    (
        UnitKind::RightsStation,
        "福利镇妇女维权站",
        "450321102000",
        "fl-station@demo.lianxin",
    ),
    (
        UnitKind::RightsStation,
        "大圩镇妇女维权站",
        "450323101000",
        "dx-station@demo.lianxin",
    ),
    (
        UnitKind::RightsStation,
        "长安镇妇女维权站",
        "450224100000",
        "ca-station@demo.lianxin",
    ),
    (
        UnitKind::WomensHome,
        "遇龙村妇女之家",
        "450321101201",
        "yl-home@demo.lianxin",
    ),
    (
        UnitKind::MediationCommittee,
        "白沙镇人民调解委员会",
        "450321101000",
        "bs-mediation@demo.lianxin",
    ),
    (
        UnitKind::MediationCommittee,
        "遇龙村人民调解委员会",
        "450321101201",
        "yl-mediation@demo.lianxin",
    ),
    (
        UnitKind::MediationCommittee,
        "大圩镇人民调解委员会",
        "450323101000",
        "dx-mediation@demo.lianxin",
    ),
    (
        UnitKind::Police,
        "白沙派出所",
        "450321101000",
        "bs-police@demo.lianxin",
    ),
    (
        UnitKind::Police,
        "阳朔县公安局指挥中心",
        "450321000000",
        "ys-command@demo.lianxin",
    ),
    (
        UnitKind::Police,
        "灵川县公安局指挥中心",
        "450323000000",
        "lc-command@demo.lianxin",
    ),
    (
        UnitKind::Police,
        "融安县公安局指挥中心",
        "450224000000",
        "ra-command@demo.lianxin",
    ),
    (
        UnitKind::LegalAid,
        "阳朔县法律援助中心",
        "450321000000",
        "ys-legalaid@demo.lianxin",
    ),
    (
        UnitKind::CivilAffairs,
        "阳朔县民政局",
        "450321000000",
        "ys-civil@demo.lianxin",
    ),
    (
        UnitKind::Health,
        "阳朔县卫生健康局",
        "450321000000",
        "ys-health@demo.lianxin",
    ),
    (
        UnitKind::HumanResources,
        "阳朔县人力资源和社会保障局",
        "450321000000",
        "ys-hr@demo.lianxin",
    ),
    // The co-operating bodies referrals go to (issue 14).
    (
        UnitKind::VillageCommittee,
        "遇龙村村民委员会",
        "450321101201",
        "yl-cunwei@demo.lianxin",
    ),
    (
        UnitKind::SocialOrganization,
        "阳朔县阳光社会工作服务中心",
        "450321000000",
        "ys-social@demo.lianxin",
    ),
    (
        UnitKind::Agriculture,
        "阳朔县农业农村局",
        "450321000000",
        "ys-agri@demo.lianxin",
    ),
    (
        UnitKind::DisabledPersonsFederation,
        "阳朔县残疾人联合会",
        "450321000000",
        "ys-disabled@demo.lianxin",
    ),
    (
        UnitKind::JusticeOffice,
        "白沙镇司法所",
        "450321101000",
        "bs-justice@demo.lianxin",
    ),
    (
        UnitKind::TownshipGovernment,
        "白沙镇人民政府",
        "450321101000",
        "bs-town@demo.lianxin",
    ),
];

/// (username, display name, role, unit name)
pub const USERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin", "系统管理员", Role::Admin, None),
    (
        "operator",
        "热线接线员 王丽",
        Role::Operator,
        Some("12338妇女维权热线中心"),
    ),
    (
        "station",
        "白沙镇维权站 李芳",
        Role::StationWorker,
        Some("白沙镇妇女维权站"),
    ),
    (
        "mediator",
        "白沙镇调委会 陈明",
        Role::Mediator,
        Some("白沙镇人民调解委员会"),
    ),
    (
        "police",
        "白沙派出所 值班民警 赵强",
        Role::PoliceLiaison,
        Some("白沙派出所"),
    ),
    (
        "command",
        "阳朔县公安局指挥中心 值班员",
        Role::PoliceLiaison,
        Some("阳朔县公安局指挥中心"),
    ),
    (
        "legalaid",
        "阳朔县法律援助中心 黄静",
        Role::Department,
        Some("阳朔县法律援助中心"),
    ),
    (
        "civil",
        "阳朔县民政局 社会救助股 周红",
        Role::Department,
        Some("阳朔县民政局"),
    ),
    (
        "socialwork",
        "阳朔县阳光社会工作服务中心 社工 吴悦",
        Role::Department,
        Some("阳朔县阳光社会工作服务中心"),
    ),
    (
        "supervisor",
        "阳朔县妇联 督办 刘敏",
        Role::Supervisor,
        Some("阳朔县妇联"),
    ),
    (
        "village",
        "遇龙村村委会 妇女主任 蒋秀",
        Role::Department,
        Some("遇龙村村民委员会"),
    ),
];

/// Duty phones that escalation raises are texted to (unit name, phone).
pub const DUTY_PHONES: &[(&str, &str)] = &[("白沙派出所", "13900000110")];

pub struct DemoLogins {
    pub created_users: usize,
    pub logins: Vec<(String, Role, String)>,
}

pub async fn load(db: &Db, now: DateTime<Utc>) -> Result<DemoLogins> {
    let rows: Vec<(RegionCode, String)> = REGIONS
        .iter()
        .filter_map(|(c, n)| RegionCode::parse(c).map(|c| (c, n.to_string())))
        .collect();
    {
        let txn = db.begin_write().await?;
        regions::import(&*txn, &rows).await?;
        for (kind, name, region, email) in UNITS {
            let exists = unit::Entity::find()
                .filter(unit::Column::Name.eq(*name))
                .one(&*txn)
                .await?
                .is_some();
            if !exists {
                unit::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    kind: Set(*kind),
                    name: Set(name.to_string()),
                    region_code: Set(region.to_string()),
                    email: Set(Some(email.to_string())),
                    active: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&*txn)
                .await?;
            }
        }
        txn.commit().await?;
    }
    let units = admin::list_units(db).await?;
    {
        let txn = db.begin_write().await?;
        for (name, phone) in DUTY_PHONES {
            if let Some(u) = units.iter().find(|u| u.name == *name) {
                crate::notify::sms::set_duty_phone(&*txn, now, u.id, Some(phone)).await?;
            }
        }
        txn.commit().await?;
    }
    let mut created = 0;
    let mut logins = Vec::new();
    for (username, display, role, unit_name) in USERS {
        let unit_id = unit_name.and_then(|n| units.iter().find(|u| u.name == n).map(|u| u.id));
        let res = admin::create_user(
            db,
            now,
            None,
            NewUser {
                username: username.to_string(),
                display_name: Some(display.to_string()),
                password: Some(DEMO_PASSWORD.to_string()),
                role: *role,
                unit_id,
                email: Some(format!("{username}@demo.lianxin")),
                active: Some(true),
            },
        )
        .await;
        match res {
            Ok(_) => created += 1,
            Err(crate::error::Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
        logins.push((username.to_string(), *role, display.to_string()));
    }
    Ok(DemoLogins {
        created_users: created,
        logins,
    })
}
