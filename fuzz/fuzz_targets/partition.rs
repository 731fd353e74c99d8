#![no_main]
//! Feeds any bytes as the sectors of a disk (common::partition::gpt with the backup header at the end, and mbr of sector 0: what early boot reads from a disk that may be damaged or hostile); asserts no panic and that every partition found lies inside the disk the table claims; then writes a GPT with names taken from the input, and an MBR with types and sizes taken from it, and asserts each reads back the same.
use common::partition::{gpt, gpt_write, mbr, mbr_write, NewMbrPartition, NewPartition, SECTOR};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sectors = data.len() as u64 / SECTOR;
    let mut read = |lba: u64, n: u64| {
        let a = usize::try_from(lba.checked_mul(SECTOR)?).ok()?;
        let b = a.checked_add(usize::try_from(n.checked_mul(SECTOR)?).ok()?)?;
        data.get(a..b).map(|s| s.to_vec())
    };
    if sectors >= 2 {
        if let Some(parts) = gpt(&mut read, sectors - 1) {
            for p in parts {
                assert!(p.first_lba <= p.last_lba);
            }
        }
    }
    let _ = mbr(data);
    // a table written with names from the input reads back the same
    let text = String::from_utf8_lossy(data);
    let names: Vec<String> = text.split('\n').take(4).map(|s| s.chars().take(36).collect()).collect();
    let new: Vec<NewPartition> = names
        .iter()
        .enumerate()
        .map(|(i, n)| NewPartition { name: n, sectors: 8 + i as u64, unique: [i as u8 + 1; 16] })
        .collect();
    let total = 8 * 2048;
    if let Some((head, tail, starts)) = gpt_write(total, [7; 16], &new) {
        // the disk as the table sees it: head, zeros, tail (no 8 MiB buffer)
        let tail_lba = total - tail.len() as u64 / SECTOR;
        let mut read = |lba: u64, n: u64| {
            let mut out = Vec::new();
            for l in lba..lba + n {
                let sector = if (l * SECTOR) < head.len() as u64 {
                    &head[(l * SECTOR) as usize..((l + 1) * SECTOR) as usize]
                } else if l >= tail_lba && l < total {
                    let a = ((l - tail_lba) * SECTOR) as usize;
                    &tail[a..a + SECTOR as usize]
                } else {
                    &[0u8; SECTOR as usize][..]
                };
                out.extend_from_slice(sector);
            }
            Some(out)
        };
        let back = gpt(&mut read, total - 1).expect("a written table reads back");
        assert_eq!(back.len(), new.len());
        for ((p, n), s) in back.iter().zip(&new).zip(&starts) {
            assert_eq!(&p.name, n.name);
            assert_eq!(p.first_lba, *s);
        }
    }
    // an MBR with types and sizes from the input reads back the same
    let new: Vec<NewMbrPartition> = data
        .chunks(3)
        .take(5)
        .map(|c| NewMbrPartition {
            kind: c[0],
            sectors: c.get(1..).map_or(0, |b| b.iter().fold(0u64, |a, &x| a << 8 | x as u64)) * 64,
            bootable: c[0] & 1 == 1,
        })
        .collect();
    let total = 1u64 << 24;
    if let Some((sector, starts)) = mbr_write(total, 0xfeed_f00d, &new) {
        let back = mbr(&sector).expect("a written MBR reads back");
        assert_eq!(back.len(), new.len());
        for ((p, n), s) in back.iter().zip(&new).zip(&starts) {
            assert_eq!(p.kind[0], n.kind);
            assert_eq!(p.first_lba, *s);
            assert_eq!(p.bytes(), n.sectors * SECTOR);
            assert!(p.last_lba < total);
        }
    }
});
