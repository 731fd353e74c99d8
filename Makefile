# ferrite — the commands an embedded engineer expects.
#   make            static musl release binary for x86_64
#   make qemu       build the default board's image and boot it in QEMU
#   make image      only build it (BOARD=qemu-x86_64 by default)
#   make test       the whole test suite (lint, size, unit, process, interop, QEMU boots)
#   make bench      side-by-side benchmarks (results go to BENCHMARKS.md by hand)

TARGET        ?= x86_64-unknown-linux-musl
RELEASE_BIN   := target/$(TARGET)/release/ferrite
# The whole stack must never grow past 1.5 MiB (BusyBox static is ~1.2 MB).
MAX_BYTES     := 1572864

.PHONY: all build aarch64 test lint unit unit-aarch64 size-check bench clean

all: build

build:
	cargo build --release --target $(TARGET) -p ferrite

aarch64:
	$(MAKE) build TARGET=aarch64-unknown-linux-musl

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace --all-targets

# The pure cores' unit tests again on aarch64, under qemu-user (the runner
# in .cargo/config.toml), so endianness and word-size assumptions show up.
unit-aarch64:
	cargo test --target aarch64-unknown-linux-musl -p common -p supervisor -p init --lib

size-check: build
	@bytes=$$(stat -c %s $(RELEASE_BIN)); \
	 file $(RELEASE_BIN) | grep -Eq 'static(-pie)? linked|statically linked' || { echo "FAIL: $(RELEASE_BIN) is not static"; exit 1; }; \
	 if [ $$bytes -gt $(MAX_BYTES) ]; then echo "FAIL: $(RELEASE_BIN) is $$bytes bytes (limit $(MAX_BYTES))"; exit 1; fi; \
	 echo "size-check: $(RELEASE_BIN) is $$bytes bytes, static (limit $(MAX_BYTES))"

test: lint size-check aarch64 unit-aarch64 images unit

bench: build image
	python3 bench/supervision.py
	python3 bench/svlogd.py
	python3 bench/dhcp.py
	python3 bench/replug.py
	python3 bench/qemu_replug.py
	python3 bench/boot.py

clean:
	cargo clean

# ---- images -------------------------------------------------------------
BOARD ?= qemu-x86_64
ROOTFS := cargo run -q --release -p rootfs --

.PHONY: image images qemu cable-off cable-on monitor
image:
	$(ROOTFS) image board-configs/$(BOARD).toml

# The QEMU boards the boot tests use.
images:
	$(MAKE) image BOARD=qemu-x86_64
	$(MAKE) image BOARD=qemu-aarch64

qemu: image
	$(ROOTFS) qemu board-configs/$(BOARD).toml

# The virtual cable of a running `make qemu`, through the QEMU monitor.
cable-off:
	$(ROOTFS) monitor board-configs/$(BOARD).toml set_link n0 off
cable-on:
	$(ROOTFS) monitor board-configs/$(BOARD).toml set_link n0 on
monitor:
	$(ROOTFS) monitor board-configs/$(BOARD).toml $(CMD)
