//! Debian packages as build inputs: `apt-get download` into a cache and
//! `dpkg-deb -x` (nothing is installed on the build machine).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn qualified(pkg: &str, arch: &str) -> String {
    format!("{pkg}:{arch}")
}

/// A metapackage such as `linux-image-amd64` stands for the versioned kernel
/// package it depends on; anything else is returned as it is.
pub fn resolve(pkg: &str, arch: &str) -> Result<String, String> {
    let out = run(
        Command::new("apt-cache").args(["depends", "--no-recommends", "--no-suggests"]).arg(qualified(pkg, arch)),
        &format!("apt-cache depends {pkg}"),
    )
    .map_err(|e| format!("{e}\nhint: run `apt-get update` (for a foreign architecture first `dpkg --add-architecture {arch}`)"))?;
    for line in out.lines() {
        let line = line.trim();
        if let Some(dep) = line.strip_prefix("Depends: ") {
            let dep = dep.split(':').next().unwrap_or(dep).trim();
            if dep.starts_with("linux-image-") && dep.chars().any(|c| c.is_ascii_digit()) {
                return Ok(dep.to_string());
            }
        }
    }
    Ok(pkg.to_string())
}

/// Download and unpack `pkg` for `arch` under `cache`; returns the unpacked root.
pub fn debian_package(cache: &Path, pkg: &str, arch: &str) -> Result<PathBuf, String> {
    package_spec(cache, arch, pkg, &qualified(pkg, arch))
}

/// Download the package apt calls `spec` (`libc6:arm64`, or a plain name
/// for an `Architecture: all` package) and unpack it under
/// `cache/ARCH/PKG`; returns the unpacked root.
pub fn package_spec(cache: &Path, arch: &str, pkg: &str, spec: &str) -> Result<PathBuf, String> {
    let dir = cache.join(arch).join(pkg);
    let root = dir.join("root");
    if dir.join(".done").exists() {
        return Ok(root);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!("ferrite-rootfs: fetching Debian package {pkg} ({arch})");
    run(
        Command::new("apt-get").arg("download").arg("-q").arg(spec).current_dir(&dir),
        &format!("apt-get download {pkg}"),
    )
    .map_err(|e| format!("{e}\nhint: run `apt-get update` as root (for {arch} on another architecture first `dpkg --add-architecture {arch}`)"))?;
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download {pkg} left no .deb in {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&root);
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
        "dpkg-deb -x",
    )?;
    std::fs::write(dir.join(".done"), "").map_err(|e| e.to_string())?;
    Ok(root)
}

/// The kernel image and module directory inside an unpacked kernel package.
pub struct KernelFiles {
    pub image: PathBuf,
    pub modules: Option<PathBuf>,
    pub release: String,
    /// The package's device trees (`usr/lib/linux-image-RELEASE`), if any.
    pub dtbs: Option<PathBuf>,
}

pub fn kernel_in(root: &Path) -> Result<KernelFiles, String> {
    let boot = root.join("boot");
    let image = std::fs::read_dir(&boot)
        .map_err(|e| format!("{}: {e}", boot.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz"))
        })
        .ok_or_else(|| format!("no vmlinuz in {}", boot.display()))?;
    let release = image
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_start_matches("vmlinuz-")
                .to_string()
        })
        .unwrap_or_default();
    let modules = root.join("lib/modules").join(&release);
    let dtbs = root.join("usr/lib").join(format!("linux-image-{release}"));
    Ok(KernelFiles {
        image,
        modules: modules.is_dir().then_some(modules),
        release,
        dtbs: dtbs.is_dir().then_some(dtbs),
    })
}
