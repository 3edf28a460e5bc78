//! The reader against the `toml` crate: the same values from the same text, the same
//! refusals, and spans that point at the same bytes.

use proptest::prelude::*;
use serde::Deserialize;
use serde_spanned::Spanned;
use toml::Value;

use super::from_str;
use crate::manifest::DEMO_MANIFEST;

/// Both readers' answer for `text`: the value, or that it was refused.
fn both(text: &str) -> (Result<Value, String>, Result<Value, String>) {
    let ours = from_str::<Value>(text).map_err(|e| e.to_string());
    let theirs = toml::from_str::<Value>(text).map_err(|e| e.message().to_owned());
    (ours, theirs)
}

/// `Value`'s own `==` says NaN differs from NaN; its Debug text does not.
fn same(a: &Value, b: &Value) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[track_caller]
fn agrees(text: &str) {
    match both(text) {
        (Ok(ours), Ok(theirs)) => assert!(same(&ours, &theirs), "{text:?}\nours:   {ours:?}\ntheirs: {theirs:?}"),
        (Err(_), Err(_)) => {}
        (ours, theirs) => panic!("{text:?}\nours:   {ours:?}\ntheirs: {theirs:?}"),
    }
}

#[test]
fn the_demo_manifest_reads_as_the_toml_crate_reads_it() {
    let (ours, theirs) = both(DEMO_MANIFEST);
    assert_eq!(ours.expect("valid"), theirs.expect("valid"));
}

/// TOML's own examples (toml.io, v1.1.0) and the corners around them.
const VALID: &[&str] = &[
    "",
    "\u{feff}a = 1",
    "# only a comment",
    "a = 1 # comment\r\nb = 2\r\n",
    "key = \"value\"\nbare_key = 'v'\nbare-key = 1\n1234 = 5\n\"127.0.0.1\" = \"x\"\n\"ʎǝʞ\" = 1\n'quoted \"value\"' = 2\n\"\" = 3",
    "name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true",
    "fruit . color = 1\n 'fruit' . flavor = 2",
    "apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"\norange.skin = \"thick\"",
    "3.14159 = \"pi\"",
    "str = \"I'm a string. \\\"You can quote me\\\". Name\\tJos\\u00E9\\nLocation\\tSF.\\U0001F600 \\e \\x41\"",
    "str1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"",
    "str2 = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"",
    "str3 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\   \n       the lazy dog.\\\n       \"\"\"",
    "str4 = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\nstr5 = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"\nstr7 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
    "winpath = 'C:\\Users\\nodejs\\templates'\nquoted = 'Tom \"Dubs\" Preston-Werner'\nregex = '<\\i\\c*\\s*>'",
    "regex2 = '''I [dw]on't need \\d{2} apples'''\nlines = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
    "quot15 = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\napos15 = \"Here are fifteen apostrophes: '''''''''''''''\"\nstr = ''''That,' she said, 'is still pointless.''''",
    "int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\nint6 = 5_349_221\nint7 = 53_49_221\nint8 = 1_2_3_4_5",
    "hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef\noct1 = 0o01234567\noct2 = 0o755\nbin1 = 0b11010110",
    "max = 9223372036854775807\nmin = -9223372036854775808\nz = -0\np = +0",
    "flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\nflt7 = 6.626e-34\nflt8 = 224_617.445_991_228",
    "sf1 = inf\nsf2 = +inf\nsf3 = -inf\nsf4 = nan\nsf5 = +nan\nsf6 = -nan\nz = -0.0\nzz = 0e0",
    "bool1 = true\nbool2 = false",
    "odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\nodt3 = 1979-05-27T00:32:00.5-07:00\nodt4 = 1979-05-27 07:32:00Z\nodt5 = 1979-05-27t07:32:00z",
    "ldt1 = 1979-05-27T07:32:00\nldt2 = 1979-05-27T00:32:00.999999\nld1 = 1979-05-27\nlt1 = 07:32:00\nlt2 = 00:32:00.999999\nlt3 = 07:32\nodt = 1979-05-27 07:32Z",
    "d = 1979-05-27 # a date and a comment\nt = [1979-05-27 , 07:32:00]",
    "integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\nnested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\nnested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\nstring_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]",
    "numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\ncontributors = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example.com/bazqux\" }\n]",
    "integers2 = [\n  1, 2, 3\n]\nintegers3 = [\n  1,\n  2, # this is ok\n]\nempty = [ ]\ncomments = [ # a\n # b\n]",
    "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456",
    "[dog.\"tater.man\"]\ntype.name = \"pug\"",
    "[a.b.c]\n[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"ʞ\" . 'l' ]",
    "[x.y.z.w]\n[x]",
    "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
    "name = \"Fido\"\nbreed = \"pug\"\n[owner]\nname = \"Regina Dogman\"\nmember_since = 1999-08-04",
    "[[products]]\nname = \"Hammer\"\nsku = 738594937\n[[products]]  # empty table within the array\n[[products]]\nname = \"Nail\"\nsku = 284758393\ncolor = \"gray\"",
    "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\nshape = \"round\"\n[[fruits.varieties]]\nname = \"red delicious\"\n[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"",
    "points = [ { x = 1, y = 2, z = 3 },\n           { x = 7, y = 8, z = 9 },\n           { x = 2, y = 4, z = 8 } ]",
    "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = {x=1, y=2}\nanimal = { type.name = \"pug\" }\nempty = {}",
    "contact = {\n    personal = {\n        name = \"Donald Duck\",\n        email = \"donald@duckburg.com\",\n    },\n    work = {\n        name = \"Coin cleaner\",\n        email = \"donald@ScroogeCorp.com\",\n    },\n}",
    "[product]\ntype = { name = \"Nail\" }\n[a]\n[a.b.c]\nd = 1\n[a.b]\ne = 2",
    "tab\t=\t\"\tkeeps\ttabs\t\"\t# and\ttabs",
    "unicode = \"café ☕ 🦀\"\n\"ключ\" = 'значение'",
    "a = { b\n= 1, c =\n 2, \"d\"\n =\n 3 # comments too\n}",
    "s = \"\"\"\r\nwindows\r\nlines\\\r\n   joined\"\"\"",
];

/// Text both readers must refuse.
const INVALID: &[&str] = &[
    "key = # no value",
    "key",
    "= \"no key\"",
    "first = \"Tom\" last = \"Preston-Werner\"",
    "name = \"Tom\"\nname = \"Pradyun\"",
    "spelling = \"favorite\"\n\"spelling\" = \"favourite\"",
    "fruit.apple = 1\nfruit.apple.smooth = true",
    "a = unquoted",
    "a = \"not closed",
    "a = \"line\nbreak\"",
    "a = 'not closed",
    "a = \"\"\"never closed",
    "a = '''never closed",
    "a = \"bad \\q escape\"",
    "a = \"\\uD800\"",
    "a = \"\\u12\"",
    "a = \"\\x4\"",
    "a = \"control \u{1} char\"",
    "a = 1 # control \u{7f} in a comment",
    "a = \"\"\"six \"\"\"\"\"\"",
    "a = '''''''''",
    "int = 0_",
    "int = _1",
    "int = 1__2",
    "int = 012",
    "int = +0x10",
    "int = 0xG",
    "int = 0b102",
    "int = 9223372036854775808",
    "int = 1.",
    "int = .5",
    "int = 1.e5",
    "int = 1e",
    "int = 1e_5",
    "int = 3.e+20",
    "int = infinity",
    "b = True",
    "b = truee",
    "d = 1979-05-27T",
    "d = 1979-13-27",
    "d = 1979-02-30",
    "t = 25:00:00",
    "d = 1979-05-27T07:32:00+25:00",
    "[table]\n[table]",
    "[a]\nb = 1\n[a.b]",
    "[fruit]\napple.color = \"red\"\n[fruit.apple]",
    "[a.b.c]\nz = 9\n[a]\nb.c.t = 1",
    "[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1",
    "a = []\n[[a]]",
    "[[a]]\n[a]",
    "[a]\n[[a]]",
    "a = { b = 1 }\n[a]",
    "a = { b = 1 }\na.c = 2",
    "a = { b = 1 }\n[a.c]",
    "a = { b = 1, b = 2 }",
    "a = { b.c = 1, b = 2 }",
    "a = { b = { c = 1 }, b.d = 2 }",
    "a = [1, 2",
    "a = [1 2]",
    "a = [,]",
    "a = [1,,2]",
    "a = { b = 1 c = 2 }",
    "a = { b = 1,, }",
    "a = {",
    "[a",
    "[[a]",
    "[[a] ]",
    "[]",
    "[a.]",
    "a. = 1",
    "a..b = 1",
    "\"\"\"multi\"\"\" = 1",
    "a = 1\r",
    "a = 1 b",
    "a = \"x\"y",
    "a = 1979-05-27 07",
    "[a]x = 1",
    "a.b = 1\n[a]",
    "a = 1\n[a]",
    "a = { b = 1 }\n[[a]]",
];

#[test]
fn toml_s_own_examples_read_as_the_toml_crate_reads_them() {
    for text in VALID {
        let (ours, theirs) = both(text);
        let theirs = theirs.unwrap_or_else(|e| panic!("the toml crate refuses {text:?}: {e}"));
        let ours = ours.unwrap_or_else(|e| panic!("we refuse {text:?}: {e}"));
        assert!(same(&ours, &theirs), "{text:?}\nours:   {ours:?}\ntheirs: {theirs:?}");
    }
}

#[test]
fn what_the_toml_crate_refuses_we_refuse_with_a_position() {
    for text in INVALID {
        let theirs = toml::from_str::<Value>(text);
        assert!(theirs.is_err(), "the toml crate reads {text:?} as {theirs:?}");
        let err = from_str::<Value>(text).expect_err(text);
        let span = err.span().unwrap_or_else(|| panic!("{text:?}: no position for {err}"));
        assert!(span.start <= text.len(), "{text:?}: {span:?}");
    }
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let err = |text: &str| from_str::<Value>(text).unwrap_err();
    assert_eq!(err("a = 1\nb = 2\nc = \n").message(), "expected a value, found the end of the line");
    assert_eq!(err("a = 1\nb = 2\nc = \n").span(), Some(16..17));
    assert_eq!(err("a = \"x\\qy\"").message(), "`\\q` is not a valid escape");
    assert_eq!(err("a = yes").message(), "`yes` is not a value (a string needs quotes)");
    assert_eq!(err("[a]\n[a]").message(), "table `[a]` is defined twice");
    assert_eq!(err("[a]\n[a]").span(), Some(4..7));
    assert_eq!(err("a = 1\na = 2").message(), "duplicate key `a`");
    assert_eq!(err("a = 1\na = 2").span(), Some(6..7));
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    for open in ["[", "{ a = "] {
        let text = format!("a = {}", open.repeat(100_000));
        let err = from_str::<Value>(&text).unwrap_err();
        assert!(err.message().contains("nested too deeply"), "{err}");
    }
    // Keys of many parts, dotted or in a header, would nest tables as deep.
    for text in [format!("{} = 1", vec!["a"; 100_000].join(".")), format!("[{}]", vec!["a"; 100_000].join("."))] {
        let err = from_str::<Value>(&text).unwrap_err();
        assert!(err.message().contains("at most 64 parts"), "{err}");
    }
    agrees(&format!("{} = 1", vec!["a"; 64].join(".")));
    // Nesting up to the limit is read.
    let text = format!("a = {}1{}", "[".repeat(super::MAX_DEPTH), "]".repeat(super::MAX_DEPTH));
    agrees(&text);
    assert!(from_str::<Value>(&text).is_ok());
}

#[test]
fn a_table_with_many_keys_finds_each_and_refuses_a_repeat() {
    let mut text: String = (0..500).map(|i| format!("k{i} = {i}\n")).collect();
    let value = from_str::<Value>(&text).unwrap();
    assert_eq!(value.get("k0").and_then(Value::as_integer), Some(0));
    assert_eq!(value.get("k499").and_then(Value::as_integer), Some(499));
    text.push_str("k250 = 1\n");
    assert_eq!(from_str::<Value>(&text).unwrap_err().message(), "duplicate key `k250`");
    agrees(&text);
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Spans {
    event: Spanned<Event>,
    catalogue: Vec<Spanned<Sku>>,
    promotions: Vec<Spanned<toml::Table>>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Event {
    id: Spanned<String>,
    starts_at: Spanned<Value>,
    currency: Spanned<String>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Sku {
    sku: Spanned<String>,
    price: Spanned<i64>,
    stock: Option<Spanned<i64>>,
    tags: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Strict {
    price: Spanned<i64>,
}

#[test]
fn values_are_spanned_where_the_toml_crate_spans_them() {
    #[derive(Deserialize)]
    struct Loose {
        event: toml::Table,
        #[serde(default)]
        catalogue: Vec<toml::Table>,
        #[serde(default)]
        promotions: Vec<Spanned<toml::Table>>,
    }
    // The demo's event and items with only the fields above, so both read the same struct.
    let loose: Loose = toml::from_str(DEMO_MANIFEST).unwrap();
    let mut text = String::from("[event]\n");
    for key in ["id", "starts_at", "currency"] {
        text.push_str(&format!("{key} = {}\n", loose.event[key]));
    }
    for item in &loose.catalogue {
        text.push_str("\n[[catalogue]]  # an item\n");
        for key in ["sku", "price", "stock", "tags"] {
            if let Some(v) = item.get(key) {
                text.push_str(&format!("{key} =   {v}\n"));
            }
        }
    }
    for p in &loose.promotions {
        text.push_str("\n[[promotions]]\n");
        for (key, value) in p.get_ref() {
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
    let ours: Spans = from_str(&text).unwrap();
    let theirs: Spans = toml::from_str(&text).unwrap();
    let scalar_spans = |s: &Spans| {
        let mut out = vec![s.event.get_ref().id.span(), s.event.get_ref().starts_at.span(), s.event.get_ref().currency.span()];
        for item in &s.catalogue {
            let item = item.get_ref();
            out.extend([item.sku.span(), item.price.span()]);
            out.extend(item.stock.as_ref().map(Spanned::span));
            if let Some(tags) = &item.tags {
                out.push(tags.span());
                out.extend(tags.get_ref().iter().map(Spanned::span));
            }
        }
        out
    };
    assert_eq!(scalar_spans(&ours), scalar_spans(&theirs));
    assert!(scalar_spans(&ours).len() > 40);
    // A table's span starts where the toml crate's does: at its header.
    let starts = |s: &Spans| s.catalogue.iter().map(|t| t.span().start).collect::<Vec<_>>();
    assert_eq!(starts(&ours), starts(&theirs));
    assert_eq!(format!("{:?}", ours.promotions), format!("{:?}", theirs.promotions));
}

#[test]
fn structure_errors_point_at_the_key_or_the_value() {
    let text = "price = 5\npirce = 6\n";
    let err = from_str::<Strict>(text).unwrap_err();
    assert!(err.message().starts_with("unknown field `pirce`"), "{err}");
    assert_eq!(err.span(), Some(10..15));
    let err = from_str::<Strict>("price = \"five\"").unwrap_err();
    assert_eq!(err.message(), "invalid type: string \"five\", expected i64");
    assert_eq!(err.span(), Some(8..14));
    let err = from_str::<Strict>("\n\n").unwrap_err();
    assert_eq!(err.message(), "missing field `price`");
    assert_eq!(err.span(), Some(0..2));
}

/// Values the `toml` crate can write: strings with any character, numbers, dates,
/// arrays, tables and arrays of tables, nested.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<String>().prop_map(Value::String),
        "[a-z \"'\\\\\\n\\t#=\\[\\]{}.,é🦀]{0,12}".prop_map(Value::String),
        any::<i64>().prop_map(Value::Integer),
        any::<f64>().prop_filter("NaN prints one way", |f| !f.is_nan()).prop_map(Value::Float),
        any::<bool>().prop_map(Value::Boolean),
        (1i32..9999, 1u8..13, 1u8..29, 0u8..24, 0u8..60, 0u8..60, prop::option::of(-720i16..720)).prop_map(|(y, mo, d, h, mi, s, off)| {
            let text = match off {
                Some(off) => format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}{:02}:{:02}",
                    if off < 0 { '-' } else { '+' },
                    off.abs() / 60,
                    off.abs() % 60
                ),
                None => format!("{y:04}-{mo:02}-{d:02}"),
            };
            Value::Datetime(text.parse().unwrap())
        }),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z0-9_ .\"'é-]{1,8}", inner, 0..6).prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

fn any_document() -> impl Strategy<Value = toml::Table> {
    prop::collection::btree_map("[a-zA-Z0-9_ .\"'-]{1,8}", any_value(), 0..8).prop_map(|m| m.into_iter().collect())
}

/// One small edit of the demo: a character removed, doubled or replaced by one of
/// TOML's own characters.
fn any_edit() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        "", "\"", "'", "[", "]", "{", "}", "=", ".", ",", "#", "\n", "\\", " ", "0", "_", "e", "-", ":", "\"\"\"", "[[", "x",
    ]);
    (0..DEMO_MANIFEST.len(), special, 0usize..3).prop_map(|(at, with, how)| {
        let at = (0..=at).rev().find(|&i| DEMO_MANIFEST.is_char_boundary(i)).unwrap_or(0);
        let next = DEMO_MANIFEST[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        match how {
            0 => format!("{}{with}{}", &DEMO_MANIFEST[..at], &DEMO_MANIFEST[next..]),
            1 => format!("{}{with}{}", &DEMO_MANIFEST[..at], &DEMO_MANIFEST[at..]),
            _ => format!("{}{}", &DEMO_MANIFEST[..at], &DEMO_MANIFEST[next..]),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn what_the_toml_crate_writes_reads_back_the_same(doc in any_document()) {
        for text in [toml::to_string(&doc), toml::to_string_pretty(&doc)].into_iter().flatten() {
            let ours = from_str::<Value>(&text).map_err(|e| format!("{e} at {:?}", e.span()));
            prop_assert_eq!(ours, Ok(Value::Table(doc.clone())), "{}", text);
        }
    }

    #[test]
    fn an_edited_demo_reads_as_the_toml_crate_reads_it(text in any_edit()) {
        agrees(&text);
    }
}
