//! What an ELF executable asks of the machine that runs it, read from its headers: the
//! processor, the dynamic loader, the shared libraries and the symbol versions it needs
//! from them (what `objdump -T` and `readelf -V` show), and its section names.

use std::collections::BTreeSet;

/// `e_machine` of x86-64.
pub const EM_X86_64: u16 = 62;

const PT_INTERP: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const DT_NEEDED: u64 = 1;

/// The parts of a 64-bit little-endian ELF file that say where it can run.
#[derive(Debug)]
pub struct Elf {
    pub machine: u16,
    /// `PT_INTERP`: the dynamic loader, absent from a static executable.
    pub interpreter: Option<String>,
    /// `DT_NEEDED`: the shared libraries.
    pub needed: BTreeSet<String>,
    /// The symbol versions needed, as (library, version), e.g. ("libc.so.6", "GLIBC_2.28").
    pub versions: BTreeSet<(String, String)>,
    pub sections: BTreeSet<String>,
}

impl Elf {
    /// Reads `bytes`; anything but a well-formed 64-bit little-endian ELF file fails the
    /// test.
    pub fn read(bytes: &[u8]) -> Elf {
        assert!(bytes.len() > 64 && bytes[..4] == *b"\x7fELF", "not an ELF file");
        assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
        assert_eq!(bytes[5], 1, "not a little-endian ELF file");
        let r = Reader(bytes);
        let machine = r.u16(18);
        let (phoff, phentsize, phnum) = (r.u64(32), r.u16(54) as u64, r.u16(56) as u64);
        let (shoff, shentsize, shnum, shstrndx) = (r.u64(40), r.u16(58) as u64, r.u16(60) as u64, r.u16(62) as u64);

        let mut interpreter = None;
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            if r.u32(ph) == PT_INTERP {
                interpreter = Some(r.cstr(r.u64(ph + 8)));
            }
        }

        let sections: Vec<Section> = (0..shnum).map(|i| Section::at(&r, shoff + i * shentsize)).collect();
        let names = &sections[shstrndx as usize];
        let mut needed = BTreeSet::new();
        let mut versions = BTreeSet::new();
        for s in &sections {
            let strings = &sections[s.link as usize];
            if s.kind == SHT_DYNAMIC {
                for e in (0..s.size / 16).map(|i| s.offset + i * 16) {
                    if r.u64(e) == DT_NEEDED {
                        needed.insert(r.cstr(strings.offset + r.u64(e + 8)));
                    }
                }
            }
            if s.kind == SHT_GNU_VERNEED {
                // `sh_info` entries of Elf64_Verneed, each with `vn_cnt` Elf64_Vernaux.
                let mut need = s.offset;
                for _ in 0..s.info {
                    let file = r.cstr(strings.offset + r.u32(need + 4) as u64);
                    let mut aux = need + r.u32(need + 8) as u64;
                    for _ in 0..r.u16(need + 2) {
                        versions.insert((file.clone(), r.cstr(strings.offset + r.u32(aux + 8) as u64)));
                        aux += r.u32(aux + 12) as u64;
                    }
                    need += r.u32(need + 12) as u64;
                }
            }
        }
        let sections = sections.iter().map(|s| r.cstr(names.offset + s.name as u64)).collect();
        Elf { machine, interpreter, needed, versions, sections }
    }

    /// The highest `GLIBC_x.y` version needed, as (x, y).
    pub fn max_glibc(&self) -> Option<(u32, u32)> {
        self.versions.iter().filter_map(|(_, v)| glibc_version(v)).max()
    }
}

/// `GLIBC_2.28` as (2, 28); `GLIBC_2.2.5` as (2, 2); other names as None.
pub fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

struct Section {
    name: u32,
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
}

impl Section {
    fn at(r: &Reader, at: u64) -> Section {
        Section {
            name: r.u32(at),
            kind: r.u32(at + 4),
            offset: r.u64(at + 24),
            size: r.u64(at + 32),
            link: r.u32(at + 40),
            info: r.u32(at + 44),
        }
    }
}

/// Little-endian reads at file offsets; an offset outside the file fails the test.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: u64) -> [u8; N] {
        let at = usize::try_from(at).expect("offset");
        self.0
            .get(at..at + N)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_else(|| panic!("ELF offset {at} is outside the file"))
    }
    fn u16(&self, at: u64) -> u16 {
        u16::from_le_bytes(self.bytes(at))
    }
    fn u32(&self, at: u64) -> u32 {
        u32::from_le_bytes(self.bytes(at))
    }
    fn u64(&self, at: u64) -> u64 {
        u64::from_le_bytes(self.bytes(at))
    }
    /// The NUL-terminated string at `at`.
    fn cstr(&self, at: u64) -> String {
        let at = usize::try_from(at).expect("offset");
        let rest = self.0.get(at..).unwrap_or_else(|| panic!("ELF string at {at} is outside the file"));
        let end = rest.iter().position(|&b| b == 0).unwrap_or_else(|| panic!("ELF string at {at} has no end"));
        String::from_utf8_lossy(&rest[..end]).into_owned()
    }
}
