# Shared by hack/cluster.sh and hack/receivers.sh: processes started detached and
# stopped by pid, health waits and loopback ports. The caller sets STATE (its state
# dir, which every started process must carry in its command line), STARTED=(),
# and defines log and die.

pid_file() { echo "$STATE/pids/$1.pid"; }

# pid_of NAME: prints the pid of a running component started in this state dir. The
# process must still carry the state dir in its command line, so a recycled pid is
# never taken for ours.
pid_of() {
  local f pid cmdline
  f=$(pid_file "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr "\0" " " 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *"$STATE/"* ]] || return 1
  # A zombie (exited, not yet reaped) is not running.
  case $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) in
    Z|X|'') return 1 ;;
  esac
  echo "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

# start_component NAME BINARY ARGS...: runs detached in its own session, output to its log.
start_component() {
  local name=$1
  shift
  log "starting $name"
  setsid "$@" </dev/null >"$STATE/logs/$name.log" 2>&1 &
  local pid=$! i
  echo "$pid" >"$(pid_file "$name")"
  STARTED+=("$name")
  # Until the child has exec'd the binary, its command line is this script's, then
  # setsid's, and while the kernel loads the binary it reads empty: on a loaded machine a
  # check in those windows took a starting component for one that had exited. Wait until
  # the process runs the binary with its arguments in place, or is gone.
  local want
  want=$(readlink -f "$1")
  for ((i = 0; i < 500; i++)); do
    [ -r "/proc/$pid/cmdline" ] || break
    case $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) in
      Z|X|'') break ;;
    esac
    if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$want" ] &&
      [[ $(tr "\0" " " 2>/dev/null <"/proc/$pid/cmdline") == *"$STATE/"* ]]; then
      break
    fi
    sleep 0.02
  done
}

# stop_component NAME: TERM, up to ~10 s grace, then KILL. Only pids from our pid files.
stop_component() {
  local name=$1 pid i
  if pid=$(pid_of "$name"); then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      is_running "$name" || break
      sleep 0.1
    done
    if is_running "$name"; then
      log "$name did not exit after TERM, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        is_running "$name" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$(pid_file "$name")"
}

# stop_all: every component with a pid file, in reverse start order, then any other pid file.
stop_all() {
  local i name f
  [ -d "$STATE/pids" ] || return 0
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${COMPONENTS[i]}"
  done
  for f in "$STATE"/pids/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    stop_component "$name"
  done
}

# ---------------------------------------------------------------------------------------
# Waiting

# wait_for NAME SECONDS CHECK...: polls CHECK until it succeeds; fails early when the
# component's process is gone, and names the log either way.
wait_for() {
  local name=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  while ! "$@" >/dev/null 2>&1; do
    # Gone twice, a moment apart: a process is never taken for exited on one reading.
    if [ -f "$(pid_file "$name")" ] && ! is_running "$name" && ! { sleep 0.3; is_running "$name"; }; then
      # The log goes with the state directory of a failed run: show its end.
      tail -n 15 "$STATE/logs/$name.log" 2>/dev/null | sed "s/^/[$name] /" >&2 || true
      die "$name exited during start-up; see $STATE/logs/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      die "$name not healthy after ${secs}s; see $STATE/logs/$name.log"
    fi
    sleep 0.5
  done
}

http_ok() { curl -fsS --max-time 5 -o /dev/null "$1"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR: sets VAR to a random loopback port below the ephemeral range that nothing
# listens on and that this run has not handed out yet.
PICKED_PORTS=" "
pick_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    case $PICKED_PORTS in *" $p "*) continue ;; esac
    if ! port_in_use "$p"; then
      PICKED_PORTS+="$p "
      printf -v "$1" %s "$p"
      return 0
    fi
  done
  die "no free loopback port found"
}

