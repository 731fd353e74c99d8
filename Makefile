# ferrite — the commands an embedded engineer expects (`make help` lists them).
# Each target first runs scripts/deps, the one place that knows what the
# machine needs: it installs what is missing and is silent when all is there.

TARGET        ?= x86_64-unknown-linux-musl
RELEASE_BIN   := target/$(TARGET)/release/ferrite
# The whole stack must never grow past 1.5 MiB (BusyBox static is ~1.2 MB).
MAX_BYTES     := 1572864

# The Rust release the suite is tested with. A newer stable toolchain may
# add clippy lints: outside CI they warn, under CI=true (and on this release)
# every warning fails.
TESTED_RUST   := 1.95
RUST_RELEASE  := $(shell rustc --version 2>/dev/null | sed -E 's/^rustc ([0-9]+\.[0-9]+).*/\1/')
CLIPPY_LEVEL  := $(if $(or $(filter true,$(CI)),$(filter $(TESTED_RUST),$(RUST_RELEASE))),-D,-W)
DEPS          := scripts/deps

.PHONY: all help deps build aarch64 test lint unit unit-aarch64 size-check bench fuzz fuzz-smoke clean ci-setup-heals

all: build

help:
	@echo "make              static musl release binary for x86_64 (target/$(TARGET)/release/ferrite)"
	@echo "make qemu         build the default board's image and boot it in QEMU (BOARD=NAME for another)"
	@echo "make image        only build the board's image into target/images/BOARD/"
	@echo "make qemu-ram     boot the initramfs alone (make qemu boots the board's disk.img when it has one)"
	@echo "make qemu HOSTFWD=tcp:127.0.0.1:2222-:22   forward a host port into the guest (ssh to dropbear)"
	@echo "make flash BOARD=rpi4 DEV=/dev/sdX   write the board's sdcard.img (or disk.img) to a whole disk, after you type its name"
	@echo "make test         the whole test suite: lint, size, unit, process, interop, namespaces, QEMU boots"
	@echo "make bench        side-by-side benchmarks against runit, s6, BusyBox (figures in BENCHMARKS.md)"
	@echo "make fuzz         every fuzz target for 10 million inputs (FUZZ_RUNS=N, FUZZ_TARGETS='a b'); make test runs each 4 s"
	@echo "make deps         install what make test needs (make deps PROFILE=bench|fuzz|qemu ... for others)"
	@echo "make aarch64      the binary for 64-bit Arm"
	@echo "make lint         cargo fmt --check and clippy"
	@echo "make unit         cargo test of the whole workspace"
	@echo "make cable-off    pull the virtual cable of a running make qemu (cable-on replugs it)"
	@echo "make monitor CMD='info network'   any QEMU monitor command to a running make qemu"
	@echo "make clean        cargo clean"

PROFILE ?= test
deps:
	@$(DEPS) $(PROFILE) $(if $(filter image qemu,$(PROFILE)),$(BOARD))

build:
	@$(DEPS) build $(TARGET)
	cargo build --release --target $(TARGET) -p ferrite

aarch64:
	$(MAKE) build TARGET=aarch64-unknown-linux-musl

lint:
	@$(DEPS) test
	cargo fmt --all -- --check
	@[ "$(CLIPPY_LEVEL)" = -D ] || echo "lint: rustc $(RUST_RELEASE) is not the tested $(TESTED_RUST): clippy warnings are shown, not fatal (CI=true makes them fatal)"
	cargo clippy --workspace --all-targets -- $(CLIPPY_LEVEL) warnings

unit:
	@$(DEPS) test
	cargo test --workspace --all-targets

# The pure cores' unit tests again on aarch64, under qemu-user (the runner
# in .cargo/config.toml), so endianness and word-size assumptions show up.
unit-aarch64:
	@$(DEPS) test
	cargo test --target aarch64-unknown-linux-musl -p common -p supervisor -p init --lib

size-check: build
	@bytes=$$(stat -c %s $(RELEASE_BIN)); \
	 file $(RELEASE_BIN) | grep -Eq 'static(-pie)? linked|statically linked' || { echo "FAIL: $(RELEASE_BIN) is not static"; exit 1; }; \
	 if [ $$bytes -gt $(MAX_BYTES) ]; then echo "FAIL: $(RELEASE_BIN) is $$bytes bytes (limit $(MAX_BYTES))"; exit 1; fi; \
	 $(if $(filter x86_64%,$(TARGET)),$(RELEASE_BIN) --list | grep -qx init || { echo "FAIL: $(RELEASE_BIN) does not start (its packed relocations need musl 1.2.4+: .cargo/config.toml)"; exit 1; };) \
	 echo "size-check: $(RELEASE_BIN) is $$bytes bytes, static, starts (limit $(MAX_BYTES))"

# The suite. Under CI=true it first shows that the setup heals itself.
test:
	@$(DEPS) test
	$(if $(filter true,$(CI)),$(MAKE) ci-setup-heals)
	$(MAKE) lint size-check aarch64 unit-aarch64 images unit fuzz-smoke

# CI only (never on a user's machine): take the x86_64 musl target away and
# show that `make image` brings it back by itself.
ci-setup-heals:
	@[ "$(CI)" = true ] || { echo "ci-setup-heals removes a Rust target: only under CI=true"; exit 2; }
	rustup target remove x86_64-unknown-linux-musl
	$(MAKE) image BOARD=qemu-x86_64
	@rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
	  && echo "ci-setup-heals: make image installed the x86_64 musl target again and built the image"

# Every parser of outside input has a cargo-fuzz target (fuzz/fuzz_targets).
# make test runs each for a few seconds; any crash or hang fails it.
fuzz-smoke:
	@$(DEPS) fuzz
	fuzz/run 4

# The long runs, not part of make test or CI: each target for FUZZ_RUNS
# inputs, one after the other; fuzz/run prints executions and wall time.
FUZZ_RUNS    ?= 10000000
FUZZ_TARGETS ?=
fuzz:
	@$(DEPS) fuzz
	fuzz/run --runs $(FUZZ_RUNS) $(FUZZ_TARGETS)

bench:
	@$(DEPS) bench
	$(MAKE) build image
	python3 bench/supervision.py
	python3 bench/svlogd.py
	python3 bench/dhcp.py
	python3 bench/dhcp6.py
	python3 bench/ra_vars.py
	python3 bench/ra.py
	python3 bench/pd_replug.py
	python3 bench/replug.py
	python3 bench/qemu_replug.py
	python3 bench/boot.py
	$(MAKE) image BOARD=rpi4
	$(MAKE) image BOARD=rpi3-qemu
	$(MAKE) image BOARD=qemu-aarch64
	python3 bench/sdcard.py
	python3 bench/disk.py

clean:
	cargo clean

# ---- images -------------------------------------------------------------
BOARD ?= qemu-x86_64
ROOTFS := cargo run -q --release -p rootfs --
# Host ports forwarded into the guest, e.g. HOSTFWD=tcp:127.0.0.1:2222-:22
# (then `ssh -p 2222 root@127.0.0.1` reaches a board with dropbear).
HOSTFWD ?=
HOSTFWD_ARGS := $(foreach r,$(HOSTFWD),--hostfwd $(r))

.PHONY: image images qemu qemu-ram flash cable-off cable-on monitor
image:
	@$(DEPS) image board-configs/$(BOARD).toml
	$(ROOTFS) image board-configs/$(BOARD).toml

# The boards the boot and image tests use (the Pi 4's SD card is checked,
# rpi3-qemu boots the same layout).
images:
	$(MAKE) image BOARD=qemu-x86_64
	$(MAKE) image BOARD=qemu-aarch64
	$(MAKE) image BOARD=rpi4
	$(MAKE) image BOARD=rpi3-qemu
	$(MAKE) image BOARD=router

qemu:
	@$(DEPS) qemu board-configs/$(BOARD).toml
	$(MAKE) image
	$(ROOTFS) qemu board-configs/$(BOARD).toml $(HOSTFWD_ARGS)

# The initramfs alone, without the board's disk image (nothing persists).
qemu-ram:
	@$(DEPS) qemu board-configs/$(BOARD).toml
	$(MAKE) image
	$(ROOTFS) qemu board-configs/$(BOARD).toml --ram $(HOSTFWD_ARGS)

# Write target/images/BOARD's sdcard.img (else disk.img) to the whole disk
# DEV: scripts/flash refuses a partition, a file, a mounted or busy disk,
# shows the disk's model and size and writes only after its name is typed.
DEV ?=
flash:
	@[ -n "$(DEV)" ] || { echo "usage: make flash BOARD=$(BOARD) DEV=/dev/sdX (the whole disk)"; exit 2; }
	scripts/flash target/images/$(BOARD) $(DEV)

# The virtual cable of a running `make qemu`, through the QEMU monitor.
cable-off:
	$(ROOTFS) monitor board-configs/$(BOARD).toml set_link n0 off
cable-on:
	$(ROOTFS) monitor board-configs/$(BOARD).toml set_link n0 on
monitor:
	$(ROOTFS) monitor board-configs/$(BOARD).toml $(CMD)
