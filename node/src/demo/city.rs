//! The cast of the demo city (宝鸡市): departments, the data feed, the
//! credit service agency, firms and natural persons, with synthetic but
//! valid identifiers, and the contract templates of the eight categories.
//!
//! Every name and code here is made up for the demo. Organisation codes are
//! built the way GB 32100-2015 builds them: registration authority and type
//! (2 characters), administrative division (6 digits, 宝鸡市 610300 and its
//! districts and counties), a 9-character organisation code whose last
//! character is the GB 11714-1997 check character, and the GB 32100 check
//! character ([`Uscc::with_check`]); each code is then parsed back with
//! [`Uscc::parse`], which verifies it.

use super::rng::Rng;
use lvyue_ledger::Hash;
use lvyue_ledger::types::{Category, Role, person_commitment};
use lvyue_ledger::uscc::Uscc;
use std::collections::BTreeSet;

/// Characters allowed in a USCC (and so in the organisation code inside it).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// What an organisation is in the demo.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Department,
    DataFeed,
    Agency,
    Firm(Sector),
}

/// A firm's line of business, used to match firms to contract templates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sector {
    Construction,
    Goods,
    Services,
    Industry,
    Agriculture,
}

/// One organisation with a key in the demo.
#[derive(Clone, Debug)]
pub struct Org {
    pub name: String,
    pub uscc: Uscc,
    /// Signed-note key name, also the key file's stem under `keys/demo/`.
    pub key: String,
    pub role: Role,
    pub kind: Kind,
    /// Short code of a department (`czj`, `zjj`, …), empty otherwise.
    pub code: &'static str,
}

/// A natural person: a masked name and the commitment that stands for the
/// ID number (which never leaves this module).
#[derive(Clone, Debug)]
pub struct Person {
    pub masked: String,
    pub commitment: Hash,
}

/// Source units: short code, name, and the organisation-code body.
const DEPARTMENTS: &[(&str, &str)] = &[
    ("czj", "宝鸡市财政局"),
    ("zjj", "宝鸡市住房和城乡建设局"),
    ("jtj", "宝鸡市交通运输局"),
    ("jyj", "宝鸡市教育局"),
    ("wjw", "宝鸡市卫生健康委员会"),
    ("slj", "宝鸡市水利局"),
    ("nyj", "宝鸡市农业农村局"),
    ("cgj", "宝鸡市城市管理执法局"),
    ("zrj", "宝鸡市自然资源局"),
    ("swj", "宝鸡市商务局"),
    ("gxj", "宝鸡市工业和信息化局"),
    ("gzw", "宝鸡市人民政府国有资产监督管理委员会"),
    ("sthj", "宝鸡市生态环境局"),
    ("wlj", "宝鸡市文化和旅游局"),
];

/// Most departments a demo can have.
pub const MAX_DEPARTMENTS: usize = DEPARTMENTS.len();

/// Districts and counties of 宝鸡市 with their division codes.
pub const PLACES: &[(&str, &str)] = &[
    ("渭滨区", "610302"),
    ("金台区", "610303"),
    ("陈仓区", "610304"),
    ("凤翔区", "610305"),
    ("岐山县", "610323"),
    ("扶风县", "610324"),
    ("眉县", "610326"),
    ("陇县", "610327"),
    ("千阳县", "610328"),
    ("麟游县", "610329"),
    ("凤县", "610330"),
    ("太白县", "610331"),
];

const TRADE_NAMES: &[&str] = &[
    "秦川", "渭河", "陈仓", "金台", "凤鸣", "岐山", "周原", "石鼓", "西岐", "雍城", "千河", "嘉陵",
    "秦岭", "鸿泰", "华扬", "宝成", "钛谷", "眉坞", "太白", "麟丰", "扶风", "陇州", "长青", "盛世",
    "恒通", "博远", "康达", "瑞丰", "鼎盛", "汇通", "正和", "天成", "永兴", "新源", "安澜", "金渭",
    "青铜", "炎帝", "散关", "磻溪",
];

const SECTORS: &[(Sector, &[&str])] = &[
    (
        Sector::Construction,
        &[
            "建筑工程",
            "路桥建设",
            "市政工程",
            "水利水电工程",
            "建设集团",
        ],
    ),
    (
        Sector::Goods,
        &["教学设备", "医疗器械", "办公设备", "信息技术", "电子科技"],
    ),
    (
        Sector::Services,
        &["物业服务", "环境卫生服务", "园林绿化", "工程咨询", "物流"],
    ),
    (
        Sector::Industry,
        &["钛业", "机床", "汽车零部件", "新材料", "食品"],
    ),
    (Sector::Agriculture, &["果业专业合作社", "农业开发"]),
];

const FORMS: &[&str] = &["有限公司", "有限责任公司", "股份有限公司"];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "孙", "马",
];

/// GB 11714-1997 check character of an 8-character organisation-code body:
/// weights 3 7 9 10 5 8 4 2, digits by value and letters A=10 … Z=35,
/// C9 = 11 − (Σ mod 11), written X for 10 and 0 for 11.
fn org_code_check(body: &[u8; 8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(&c, w)| {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// Makes distinct valid codes.
pub struct CodeMaker {
    used: BTreeSet<Uscc>,
}

impl CodeMaker {
    pub fn new() -> CodeMaker {
        CodeMaker {
            used: BTreeSet::new(),
        }
    }

    /// A new valid code: `head` (authority and type, e.g. "91"), a division
    /// code, and an organisation code whose body starts with `prefix`.
    pub fn make(
        &mut self,
        rng: &mut Rng,
        head: &str,
        division: &str,
        prefix: &str,
    ) -> Result<Uscc, String> {
        loop {
            let mut body = [b'0'; 8];
            for (i, b) in body.iter_mut().enumerate() {
                *b = match prefix.as_bytes().get(i) {
                    Some(&p) => p,
                    None => ALPHABET[rng.below(ALPHABET.len())],
                };
            }
            let check = org_code_check(&body);
            let prefix17 = format!(
                "{head}{division}{}{}",
                std::str::from_utf8(&body).map_err(|e| e.to_string())?,
                check as char
            );
            let built = Uscc::with_check(&prefix17).map_err(|e| e.to_string())?;
            // Verify the result the way admission will.
            let code = Uscc::parse(built.as_str()).map_err(|e| e.to_string())?;
            if self.used.insert(code) {
                return Ok(code);
            }
        }
    }
}

/// The first `n` departments.
pub fn departments(rng: &mut Rng, codes: &mut CodeMaker, n: usize) -> Result<Vec<Org>, String> {
    DEPARTMENTS
        .iter()
        .take(n)
        .map(|&(code, name)| {
            Ok(Org {
                name: name.into(),
                uscc: codes.make(rng, "11", "610300", "0")?,
                key: format!("dept-{code}"),
                role: Role::SourceUnit,
                kind: Kind::Department,
                code,
            })
        })
        .collect()
}

/// The public-resource trading centre (a data feed, 事业单位) and the credit service agency.
pub fn feed_and_agency(rng: &mut Rng, codes: &mut CodeMaker) -> Result<[Org; 2], String> {
    Ok([
        Org {
            name: "宝鸡市公共资源交易中心".into(),
            uscc: codes.make(rng, "12", "610300", "")?,
            key: "feed-ggzy".into(),
            role: Role::DataFeed,
            kind: Kind::DataFeed,
            code: "",
        },
        Org {
            name: "宝鸡诚信通信用管理有限公司".into(),
            uscc: codes.make(rng, "91", "610301", "MA6")?,
            key: "agency-cxt".into(),
            role: Role::ServiceAgency,
            kind: Kind::Agency,
            code: "",
        },
    ])
}

/// `n` firms with distinct names, spread over the sectors.
pub fn firms(rng: &mut Rng, codes: &mut CodeMaker, n: usize) -> Result<Vec<Org>, String> {
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (sector, lines) = SECTORS[out.len() % SECTORS.len()];
        let trade = rng.pick(TRADE_NAMES);
        let line = rng.pick(lines);
        let (place, division) = *rng.pick(PLACES);
        let (name, head) = if line.ends_with("合作社") {
            (format!("宝鸡市{place}{trade}{line}"), "93")
        } else {
            (format!("宝鸡{trade}{line}{}", rng.pick(FORMS)), "91")
        };
        if !names.insert(name.clone()) {
            continue;
        }
        out.push(Org {
            name,
            uscc: codes.make(rng, head, division, "MA6")?,
            key: format!("firm-{:03}", out.len() + 1),
            role: Role::MarketEntity,
            kind: Kind::Firm(sector),
            code: "",
        });
    }
    Ok(out)
}

/// GB 11643 check character of a 17-digit resident ID number body.
fn id_check(body: &[u8]) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// `n` natural persons. Their synthetic ID numbers exist only here, to be
/// committed to with the demo's commitment key; the log holds the
/// commitment and the masked name only.
pub fn persons(rng: &mut Rng, key: &[u8; 32], n: usize) -> Vec<Person> {
    (0..n)
        .map(|i| {
            let (_, division) = rng.pick(PLACES);
            let body = format!(
                "{division}19{:02}{:02}{:02}{:03}",
                60 + rng.below(40),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(1000)
            );
            let id = format!("{body}{}", id_check(body.as_bytes()));
            Person {
                masked: format!("{}某", SURNAMES[i % SURNAMES.len()]),
                commitment: person_commitment(key, &id),
            }
        })
        .collect()
}

/// Who owes a milestone of a template: party A (甲方: the department, or the
/// buying / commissioning party) or party B (乙方: the firm, or the person).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Owes {
    A,
    B,
}

/// Who party A is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PartyA {
    /// One of these departments (short codes), files or is imported for.
    Department(&'static [&'static str]),
    /// Another firm (commercial contracts).
    Firm,
}

/// Who party B is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PartyB {
    Firm(&'static [Sector]),
    Person,
}

/// A contract template.
pub struct Template {
    pub category: Category,
    pub a: PartyA,
    pub b: PartyB,
    /// Contract names; `{place}` and `{year}` are filled in.
    pub names: &'static [&'static str],
    pub summary: &'static str,
    /// Milestones in order: who owes it, description, share of the amount in percent.
    pub milestones: &'static [(Owes, &'static str, i64)],
    /// Amount range in yuan.
    pub yuan: (i64, i64),
    /// Role names of party A and party B.
    pub roles: (&'static str, &'static str),
    /// Whether the data feed imports it (public-resource trading).
    pub imported: bool,
}

use Owes::{A, B};
use Sector as S;

/// The contract templates, several per category.
pub const TEMPLATES: &[Template] = &[
    Template {
        category: Category::GovernmentProcurement,
        a: PartyA::Department(&["jyj"]),
        b: PartyB::Firm(&[S::Goods]),
        names: &[
            "{year}年{place}中小学智慧教室设备采购项目",
            "{year}年{place}义务教育学校课桌椅采购",
        ],
        summary: "采购人按招标文件技术参数采购设备，供应商负责运输、安装、调试及三年质保，验收合格后支付合同价款。",
        milestones: &[
            (B, "设备交付并完成安装调试", 100),
            (A, "验收合格后支付合同价款", 100),
        ],
        yuan: (300_000, 4_000_000),
        roles: ("采购人", "供应商"),
        imported: false,
    },
    Template {
        category: Category::GovernmentProcurement,
        a: PartyA::Department(&["wjw", "czj", "cgj"]),
        b: PartyB::Firm(&[S::Goods, S::Services]),
        names: &[
            "{place}基层医疗卫生机构医疗设备采购",
            "{year}年度市直机关办公设备集中采购",
            "{year}年{place}城区环卫保洁服务外包项目",
        ],
        summary: "通过政府采购程序确定供应商，分批交付，采购人按约定考核后分期支付。",
        milestones: &[
            (B, "首批货物交付或服务期首季度考核", 50),
            (A, "支付首期款", 50),
            (B, "全部交付并通过终验", 50),
            (A, "支付尾款", 50),
        ],
        yuan: (200_000, 3_000_000),
        roles: ("采购人", "供应商"),
        imported: false,
    },
    Template {
        category: Category::InvestmentPromotion,
        a: PartyA::Department(&["swj", "gxj"]),
        b: PartyB::Firm(&[S::Industry]),
        names: &[
            "{place}新材料产业园项目投资合作协议",
            "{place}高端装备制造基地招商引资协议",
            "{place}钛及钛合金深加工项目投资协议",
        ],
        summary: "投资方在园区投资建设生产项目，政府方负责土地交付与配套设施，按约定兑现招商引资奖励。",
        milestones: &[
            (A, "完成项目用地交付及水电路配套", 0),
            (B, "项目开工建设", 30),
            (B, "固定资产投资达到约定额度", 70),
            (A, "兑现招商引资奖励资金", 5),
        ],
        yuan: (20_000_000, 300_000_000),
        roles: ("政府方", "投资方"),
        imported: false,
    },
    Template {
        category: Category::PublicPrivatePartnership,
        a: PartyA::Department(&["zjj", "sthj", "slj", "jtj"]),
        b: PartyB::Firm(&[S::Construction, S::Services]),
        names: &[
            "{place}污水处理厂提标改造PPP项目合同",
            "{place}城乡供水一体化PPP项目合同",
            "{place}智慧停车PPP项目合同",
        ],
        summary: "采用建设—运营—移交方式，社会资本方负责投融资、建设和运营维护，政府方按绩效考核结果支付可用性服务费。",
        milestones: &[
            (B, "完成项目建设并通过竣工验收", 60),
            (A, "支付首年可用性服务费", 20),
            (B, "首个运营年度绩效考核达标", 20),
        ],
        yuan: (50_000_000, 400_000_000),
        roles: ("政府方", "社会资本方"),
        imported: false,
    },
    Template {
        category: Category::Construction,
        a: PartyA::Department(&["jtj", "zjj", "slj", "cgj"]),
        b: PartyB::Firm(&[S::Construction]),
        names: &[
            "{place}城区道路改造提升工程施工合同",
            "{place}渭河支流河道综合治理工程施工合同",
            "{year}年{place}老旧小区改造工程施工合同",
            "{place}农村公路安全生命防护工程施工合同",
        ],
        summary: "承包人按施工图完成工程施工，工程质量达到合格标准，发包人按进度支付工程款，竣工验收后办理结算。",
        milestones: &[
            (B, "主体工程完工", 60),
            (A, "支付工程进度款", 60),
            (B, "工程竣工验收合格", 40),
        ],
        yuan: (1_000_000, 60_000_000),
        roles: ("发包人", "承包人"),
        imported: false,
    },
    Template {
        category: Category::StateAssetTransaction,
        a: PartyA::Department(&["gzw", "czj"]),
        b: PartyB::Firm(&[S::Industry, S::Services, S::Construction]),
        names: &[
            "{place}国有闲置厂房资产转让合同",
            "市属国有企业部分股权转让协议",
            "{place}国有商业用房转让合同",
        ],
        summary: "经产权交易机构公开挂牌，受让方以摘牌价格受让标的，付清价款后双方办理产权交割。",
        milestones: &[
            (B, "支付全部交易价款", 100),
            (A, "办理产权交割及过户手续", 0),
        ],
        yuan: (2_000_000, 80_000_000),
        roles: ("转让方", "受让方"),
        imported: false,
    },
    Template {
        category: Category::PublicResourceTrading,
        a: PartyA::Department(&["zrj", "slj", "nyj"]),
        b: PartyB::Firm(&[S::Construction, S::Industry]),
        names: &[
            "{place}国有建设用地使用权出让合同",
            "{place}建筑用砂石采矿权出让合同",
            "{place}农村集体经营性建设用地使用权出让合同",
        ],
        summary: "经公共资源交易平台挂牌出让，竞得人按约定分期缴纳出让价款，出让人按约定交付标的。",
        milestones: &[
            (B, "缴纳首期出让价款", 50),
            (A, "交付出让标的", 0),
            (B, "缴清剩余出让价款", 50),
        ],
        yuan: (5_000_000, 120_000_000),
        roles: ("出让人", "竞得人"),
        imported: true,
    },
    Template {
        category: Category::GovernmentProcurement,
        a: PartyA::Department(&["jtj", "cgj", "wlj"]),
        b: PartyB::Firm(&[S::Goods, S::Services]),
        names: &[
            "{year}年{place}公交站亭维护服务采购",
            "{year}年{place}景区智慧导览系统采购",
        ],
        summary: "经公共资源交易平台公开招标采购，成交供应商按合同交付，采购人验收后付款。",
        milestones: &[(B, "交付并通过验收", 100), (A, "支付合同价款", 100)],
        yuan: (150_000, 2_000_000),
        roles: ("采购人", "供应商"),
        imported: true,
    },
    Template {
        category: Category::PolicySupport,
        a: PartyA::Department(&["gxj", "czj", "swj"]),
        b: PartyB::Firm(&[S::Industry, S::Goods]),
        names: &[
            "{year}年工业企业技术改造专项资金扶持协议",
            "{year}年中小企业数字化转型扶持协议",
        ],
        summary: "企业按申报方案实施项目，政府方在项目完成并核验后拨付扶持资金；企业未达约定目标的，应退回资金。",
        milestones: &[
            (B, "完成项目建设并达到约定产能", 0),
            (A, "拨付专项扶持资金", 100),
        ],
        yuan: (200_000, 5_000_000),
        roles: ("扶持方", "受扶持企业"),
        imported: false,
    },
    Template {
        category: Category::PolicySupport,
        a: PartyA::Department(&["nyj"]),
        b: PartyB::Firm(&[S::Agriculture]),
        names: &[
            "{year}年{place}苹果产业提质增效扶持协议",
            "{year}年{place}猕猴桃标准化基地建设扶持协议",
        ],
        summary: "合作社按扶持方案建设标准化果园，农业农村部门验收合格后拨付扶持资金。",
        milestones: &[
            (B, "建成标准化种植基地并通过验收", 0),
            (A, "拨付扶持资金", 100),
        ],
        yuan: (100_000, 1_500_000),
        roles: ("扶持方", "项目实施单位"),
        imported: false,
    },
    Template {
        category: Category::PolicySupport,
        a: PartyA::Department(&["nyj"]),
        b: PartyB::Person,
        names: &[
            "{year}年{place}高标准农田管护责任协议",
            "{year}年{place}耕地地力保护责任协议",
        ],
        summary: "承包农户按协议完成管护任务，农业农村部门按季度核验。",
        milestones: &[(B, "完成年度管护任务并通过核验", 100)],
        yuan: (5_000, 60_000),
        roles: ("农业农村部门", "承包农户"),
        imported: false,
    },
    Template {
        category: Category::Commercial,
        a: PartyA::Firm,
        b: PartyB::Firm(&[S::Industry, S::Goods, S::Construction, S::Services]),
        names: &[
            "钢材购销合同",
            "原材料供货合同",
            "工程劳务分包合同",
            "设备租赁合同",
            "物流运输服务合同",
            "钛材加工承揽合同",
        ],
        summary: "双方经平等协商签订，乙方按约定交付货物或完成工作，甲方按约定支付价款。",
        milestones: &[(B, "交付货物或完成约定工作", 100), (A, "支付价款", 100)],
        yuan: (50_000, 5_000_000),
        roles: ("甲方", "乙方"),
        imported: false,
    },
    Template {
        category: Category::Commercial,
        a: PartyA::Firm,
        b: PartyB::Person,
        names: &["商铺租赁合同", "农产品收购合同"],
        summary: "自然人一方按约定交付租赁物或农产品，企业一方按约定付款。",
        milestones: &[(B, "交付租赁物或农产品", 100)],
        yuan: (20_000, 300_000),
        roles: ("甲方", "乙方（自然人）"),
        imported: false,
    },
];

/// Reasons given for agreed amendments.
pub const AMENDMENT_REASONS: &[&str] = &[
    "设计变更导致工程量增加",
    "主要材料价格大幅波动",
    "配套工程延期交付",
    "连续降雨影响施工",
    "采购需求调整",
];

/// Exemption statements by ground.
pub const FORCE_MAJEURE: &[&str] = &[
    "持续强降雨引发山洪，项目现场被淹，无法按期履行",
    "地震导致厂房受损，生产中断",
];
pub const ACCIDENT: &[&str] = &[
    "生产线突发设备事故，经应急管理部门认定非责任事故",
    "运输途中发生交通事故，货物损毁需重新生产",
];
pub const CHANGED: &[&str] = &[
    "国家产业政策调整，项目须重新办理审批",
    "上游原材料出口管制导致供应中断",
];

/// Reasons for reporting non-performance.
pub const REPORT_REASONS: &[&str] = &[
    "逾期未履行，经书面催告仍未履行",
    "仅部分履行，剩余部分经催告后仍未履行",
    "交付的货物经检验不合格，拒不更换",
];
