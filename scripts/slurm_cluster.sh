#!/usr/bin/env bash
# A private single-node SLURM cluster (Debian's slurm-wlm 22.05, munge, slurmdbd, MariaDB) for
# testing the `slurm` sweep launcher against the real scheduler. Recipe and pitfalls:
# ../shared/reference/slurm.md. Needs root. Everything lives under DIR; only the daemons this
# script started (listed in DIR/pids) are stopped.
#
#   scripts/slurm_cluster.sh start DIR   # install when missing, start, print SLURM_CONF=...
#   scripts/slurm_cluster.sh stop DIR    # stop what `start` started
#
# Clients (sbatch, sacct, submitit) find the cluster through SLURM_CONF=DIR/slurm.conf.
set -euo pipefail
action=${1:?usage: $0 start|stop DIR}
dir=$(realpath -m "${2:?usage: $0 start|stop DIR}")

spare_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

alive() {  # a killed daemon may linger as a zombie: read its state, not kill -0
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

launch() {  # launch NAME COMMAND...: run a daemon in the foreground of its own session
  setsid "${@:2}" >"$dir/log/$1.out" 2>&1 </dev/null &
  echo "$! $1" >>"$dir/pids"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1))
  until "${@:3}" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then echo "slurm_cluster: timed out waiting for $2 (logs in $dir/log)" >&2; exit 1; fi
    sleep 0.2
  done
}

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmdbd >/dev/null && command -v mariadbd >/dev/null \
    && command -v munged >/dev/null && return
  export DEBIAN_FRONTEND=noninteractive
  # another apt/dpkg (unattended upgrades, a second test run) may hold the lock: wait for it
  local lock=(-o DPkg::Lock::Timeout="${LMF_APT_LOCK_TIMEOUT:-600}")
  apt-get "${lock[@]}" update -qq
  apt-get "${lock[@]}" install -y -qq --no-install-recommends \
    slurm-wlm munge slurmdbd mariadb-server >/dev/null
}

start() {
  install_packages
  mkdir -p "$dir"/{state,spool,log,db,run}
  : >"$dir/pids"
  local host db_port dbd_port ctld_port d_port node
  host=$(hostname -s); db_port=$(spare_port); dbd_port=$(spare_port)
  ctld_port=$(spare_port); d_port=$(spare_port)

  # 1. munge (shared by every SLURM on the machine: start it only when it is not answering)
  if ! (munge -n | unmunge) >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    launch munged runuser -u munge -- /usr/sbin/munged --foreground
    wait_for 10 munge bash -c 'munge -n | unmunge'
  fi

  # 2. a private MariaDB for accounting (submitit reads job states from sacct)
  mariadb-install-db --datadir="$dir/db" --user=root --auth-root-authentication-method=normal \
    >"$dir/log/mariadb-install.out" 2>&1
  launch mariadbd mariadbd --datadir="$dir/db" --user=root --bind-address=127.0.0.1 \
    --port="$db_port" --socket="$dir/run/mysql.sock" --pid-file="$dir/run/mariadb.pid" \
    --skip-name-resolve --log-error="$dir/log/mariadb.log"
  wait_for 30 mariadb mariadb --socket="$dir/run/mysql.sock" -u root -e 'select 1'
  mariadb --socket="$dir/run/mysql.sock" -u root \
    -e "CREATE USER 'slurm'@'%' IDENTIFIED BY 'slurm'; GRANT ALL ON *.* TO 'slurm'@'%';"

  cat >"$dir/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdAddr=127.0.0.1
DbdHost=$host
DbdPort=$dbd_port
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$dir/run/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
CONF
  chmod 0600 "$dir/slurmdbd.conf"

  node=$(slurmd -C | head -n1)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=lmftest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
KillWait=2
MailProg=/bin/true
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"

  # 3. slurmdbd, the cluster record, slurmctld, slurmd
  launch slurmdbd slurmdbd -D
  wait_for 30 slurmdbd sacctmgr -n list cluster
  sacctmgr -i add cluster lmftest >/dev/null
  launch slurmctld slurmctld -D -i
  wait_for 30 slurmctld scontrol ping
  launch slurmd slurmd -D
  wait_for 30 "an idle node" bash -c 'sinfo -h -o %t | grep -qx idle'
  # the first job waits for the scheduler's first pass: spend that wait here
  local job
  job=$(sbatch --parsable -o /dev/null --wrap true)
  wait_for 30 "the warm-up job" bash -c "! squeue -h -j $job | grep -q ."
  echo "SLURM_CONF=$SLURM_CONF"
}

terminate() {  # TERM, up to 10 s, then KILL
  alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$1" && ((SECONDS < deadline)); do sleep 0.1; done
  if alive "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
}

our_job_steps() {  # slurmstepd processes of this cluster: they hold its slurmd.log open
  local proc
  for proc in /proc/[0-9]*; do
    [[ $(cat "$proc/comm" 2>/dev/null) == slurmstepd ]] || continue
    if find "$proc/fd" -lname "$dir/*" 2>/dev/null | grep -q .; then echo "${proc#/proc/}"; fi
  done
}

stop() {
  [[ -f $dir/pids ]] || return 0
  local pid name
  export SLURM_CONF="$dir/slurm.conf"
  scancel --full --user=root 2>/dev/null || true
  tac "$dir/pids" | while read -r pid name; do terminate "$pid"; done
  for pid in $(our_job_steps); do terminate "$pid"; done
  rm -f "$dir/pids"
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
