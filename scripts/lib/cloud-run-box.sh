# shellcheck shell=bash
# Cloud Run's box for the benchmarks: a service runs in cgroups (v1, root) of one CPU (a CFS quota
# of 100 ms per 100 ms, as `--cpu=1` gives it) and 256 MiB (`--memory=256Mi`, no swap), and its CPU
# time and memory are read from them. The load's 80 requests at once (`--concurrency=80`) are the
# load generator's to keep. Sourced after lib.sh and lib/local-processes.sh.

BOX_CPU_QUOTA_US=${BOX_CPU_QUOTA_US:-100000}
BOX_MEMORY_BYTES=${BOX_MEMORY_BYTES:-268435456}
BOX_CGROUPS=(cpu cpuacct memory)

# box_create NAME: the box's cgroups, empty and with its limits (again if a run left them).
box_create() {
  [[ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us && -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]] ||
    die "the box needs cgroup v1's cpu and memory controllers at /sys/fs/cgroup"
  box_remove "$1"
  local controller
  for controller in "${BOX_CGROUPS[@]}"; do mkdir "/sys/fs/cgroup/$controller/$1"; done
  echo 100000 > "/sys/fs/cgroup/cpu/$1/cpu.cfs_period_us"
  echo "$BOX_CPU_QUOTA_US" > "/sys/fs/cgroup/cpu/$1/cpu.cfs_quota_us"
  echo "$BOX_MEMORY_BYTES" > "/sys/fs/cgroup/memory/$1/memory.limit_in_bytes"
  echo 0 > "/sys/fs/cgroup/memory/$1/memory.swappiness"
  if [[ -e /sys/fs/cgroup/memory/$1/memory.memsw.limit_in_bytes ]]; then
    echo "$BOX_MEMORY_BYTES" > "/sys/fs/cgroup/memory/$1/memory.memsw.limit_in_bytes"
  fi
}

# box_start LOG NAME CMD...: start_group of CMD in the box NAME (prints the group id); what CMD
# starts stays in the box, and box_remove stops it. CMD does not run unless it is in the box.
box_start() {
  local log_file=$1 box=$2; shift 2
  # shellcheck disable=SC2016  # expanded by the inner bash, which joins the box, then becomes CMD
  start_group "$log_file" bash -c \
    'for controller in $1; do echo $$ > "/sys/fs/cgroup/$controller/$0/cgroup.procs" || exit 1; done; shift; exec "$@"' \
    "$box" "${BOX_CGROUPS[*]}" "$@"
  # box_remove kills it: no job report of that.
  disown "$!"
}

# box_remove NAME: kills what is in the box until it is empty, and removes its cgroups.
box_remove() {
  local controller pid
  for controller in "${BOX_CGROUPS[@]}"; do
    [[ -d /sys/fs/cgroup/$controller/$1 ]] || continue
    for _ in $(seq 50); do
      while read -r pid; do kill -KILL "$pid" 2> /dev/null || true; done < "/sys/fs/cgroup/$controller/$1/cgroup.procs"
      rmdir "/sys/fs/cgroup/$controller/$1" 2> /dev/null && break
      sleep 0.1
    done
    [[ ! -d /sys/fs/cgroup/$controller/$1 ]] || log "warning: /sys/fs/cgroup/$controller/$1 is still there"
  done
  return 0
}

# box_cpu_ns NAME: the CPU time its processes have used, in nanoseconds.
box_cpu_ns() { cat "/sys/fs/cgroup/cpuacct/$1/cpuacct.usage"; }
# box_throttled_ns NAME: how long the quota has held them back, in nanoseconds.
box_throttled_ns() { awk '$1 == "throttled_time" { print $2 }' "/sys/fs/cgroup/cpu/$1/cpu.stat"; }
# box_rss_bytes NAME: its processes' resident memory now (page cache not counted).
box_rss_bytes() { awk '$1 == "total_rss" { print $2 }' "/sys/fs/cgroup/memory/$1/memory.stat"; }
# box_oom_kills NAME: processes the memory limit has killed since the box was made.
box_oom_kills() { awk '$1 == "oom_kill" { print $2 }' "/sys/fs/cgroup/memory/$1/memory.oom_control"; }
