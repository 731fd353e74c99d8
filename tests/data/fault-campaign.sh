#!/bin/sh
# The fault campaign inside the booted QEMU tree (tests/qemu.rs runs it on
# the console). Every catchable signal to PID 1 but the four it acts on,
# then kill -9 of each process of the supervision tree in turn: runsvdir,
# each runsv, each logger, each service. After each fault the tree must be
# whole again: one runsvdir, and per service one run (fw: at most one, it is
# one-shot) and one logger, and a supervisor that answers svok. It prints
# one line per fault and a total line:
#   FC-TOTAL faults=N broken=B slowest_ms=M
SV=${SV:-/var/service}
# Only ever on a ferrite box (a QEMU guest): it signals PID 1.
[ "$(readlink /proc/1/exe)" = /bin/ferrite ] || { echo "fault-campaign: PID 1 is not ferrite's init: refusing"; exit 2; }
cd "$SV" || exit 1
# The console's login shell is getty_ttyS0's run: the campaign leaves that
# service alone (killing it would end this very session); tests/qemu.rs
# kills it after the campaign and logs in again.
SKIP=getty_ttyS0

now_ms() { read up _ < /proc/uptime; echo "${up%.*}${up#*.}0"; }

# One pass over /proc with shell builtins only (a fork costs milliseconds
# under emulation): TABLE gets a line "CWD KIND" per live process, KIND
# runsvdir, runsv or other.
scan() {
	TABLE=""
	for p in /proc/[0-9]*; do
		# not this shell: its cwd is wherever the last `cd -P` below took
		# it, the previous process's (it once counted as a second
		# dhcp6_eth0 when its pid came right after that client's)
		[ "${p#/proc/}" = "$$" ] && continue
		read -r st < "$p/stat" 2>/dev/null || continue
		st=${st##*) }
		case "$st" in Z*) continue ;; esac
		# cmdline ends without a newline: read fails at EOF but still fills cmd
		cmd=""; read -r cmd < "$p/cmdline" 2>/dev/null
		case "$cmd" in
		runsvdir*) kind=runsvdir ;;
		runsv*) kind=runsv ;;
		'') continue ;;
		*) kind=other ;;
		esac
		cd -P "$p/cwd" 2>/dev/null || continue
		TABLE="$TABLE$PWD $kind
"
	done
	cd "$SV"
}

count() { # CWD KIND: how many of TABLE's lines are exactly that
	n=0
	while read -r c k; do
		[ "$c" = "$1" ] && [ "$k" = "$2" ] && n=$((n + 1))
	done <<EOT
$TABLE
EOT
	echo $n
}

pids_of_cmd() { # command-line prefix (NULs read as nothing: "runsvNAME")
	for p in /proc/[0-9]*; do
		cmd=""; read -r cmd < "$p/cmdline" 2>/dev/null
		case "$cmd" in "$1"*) echo "${p#/proc/}" ;; esac
	done
}

# (ash has no local variables: the helpers' names start with w_ so that
# they never clobber the main loop's)
whole() {
	scan
	w_r=0
	while read -r w_c w_k; do [ "$w_k" = runsvdir ] && w_r=$((w_r + 1)); done <<EOT
$TABLE
EOT
	[ $w_r = 1 ] || { why="$w_r runsvdir"; return 1; }
	for w_s in *; do
		[ -d "$w_s" ] || continue
		cd -P "$w_s"; w_real=$PWD; cd "$SV"
		w_n=$(count "$w_real" other)
		if [ "$w_s" = fw ]; then
			[ "$w_n" -le 1 ] || { why="$w_s: $w_n instances"; return 1; }
		elif [ ! -e "$w_s/down" ]; then
			[ "$w_n" = 1 ] || { why="$w_s: $w_n instances"; return 1; }
		fi
		if [ -d "$w_s/log" ]; then
			w_l=$(count "$w_real/log" other)
			[ "$w_l" = 1 ] || { why="$w_s: $w_l loggers"; return 1; }
		fi
		# ferrite's svok: BusyBox's shell would run its own applet for `svok`
		ferrite svok "$SV/$w_s" || { why="$w_s: no supervisor"; return 1; }
	done
	return 0
}

faults=0; broken=0; slowest=0
after() { # NAME: wait up to 5 s for the tree to be whole, and say how long it took
	faults=$((faults + 1))
	t0=$(now_ms); i=0
	while [ $i -lt 50 ]; do
		if whole; then
			ms=$(($(now_ms) - t0)); [ $ms -gt $slowest ] && slowest=$ms
			echo "FC $1: whole after ${ms} ms"
			return
		fi
		sleep 0.1; i=$((i + 1))
	done
	broken=$((broken + 1))
	echo "FC $1: NOT WHOLE: $why"
}

whole || { echo "FC-START not whole: $why"; }

for sig in $(seq 1 64); do
	case $sig in 2|9|10|12|15|19) continue ;; esac
	kill -$sig 1 2>/dev/null
done
after "signals 1-64 to PID 1 (all but INT KILL USR1 USR2 TERM STOP)"

kill -9 $(pids_of_cmd runsvdir)
after "runsvdir"
for s in *; do
	[ -d "$s" ] && [ "$s" != "$SKIP" ] || continue
	for what in runsv logger service; do
		case $what in
		runsv) victim=$(pids_of_cmd "runsv$s" | head -n1) ;;
		logger) [ -d "$s/log" ] || continue; victim=$(sed -n 1p "$s/log/supervise/pid") ;;
		service) victim=$(sed -n 1p "$s/supervise/pid") ;;
		esac
		if [ -z "$victim" ]; then
			echo "FC $what $s: not running (nothing to kill)"
			continue
		fi
		kill -9 "$victim"
		after "$what $s (pid $victim)"
	done
done
# fw is one-shot and rarely running: start it and kill it mid-run, three
# times; then one run to the end must succeed and write its `up` again (its
# state file is written before the kernel is changed, so a kill forgets
# nothing)
if [ -d fw ]; then
	read -r up0 < fw/up 2>/dev/null
	for n in 1 2 3; do
		ferrite sv once "$SV/fw"
		victim=""; i=0
		while [ -z "$victim" ] && [ $i -lt 200 ]; do
			read -r victim < fw/supervise/pid 2>/dev/null; i=$((i + 1))
		done
		if [ -n "$victim" ]; then
			kill -9 "$victim"
			after "service fw mid-run (pid $victim)"
		else
			echo "FC service fw: finished before the kill"
		fi
	done
	sleep 1
	ferrite sv once "$SV/fw"
	i=0; up1="$up0"
	while [ "$up1" = "$up0" ] && [ $i -lt 50 ]; do sleep 0.1; read -r up1 < fw/up 2>/dev/null; i=$((i + 1)); done
	if [ "$up1" != "$up0" ] && [ -e fw/applied ]; then
		echo "FC fw after the kills: a run to the end (up $up0 -> $up1)"
	else
		broken=$((broken + 1))
		echo "FC fw after the kills: NOT WHOLE: no run to the end"
	fi
fi
echo "FC-TOTAL faults=$faults broken=$broken slowest_ms=$slowest"
