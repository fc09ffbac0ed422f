#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for testing the workflow's SLURM
# profile: munged, slurmctld and slurmd of Debian 12's packages (SLURM 22.05), started without
# systemd, as root. Everything lives in one state directory (config, keys, sockets, logs,
# spool); the only system file touched is /etc/slurm/slurm.conf, a symlink to the state
# directory's config while the cluster runs: Snakemake's job step drops SLURM_CONF from the
# environment of the srun it calls inside each job, so srun must find the config in the default
# place. An /etc/slurm/slurm.conf of a real cluster is never replaced; no running system daemon
# is reused.
#
#   tests/cluster/slurm-cluster.sh start    start the three daemons; wait until the node is idle
#   tests/cluster/slurm-cluster.sh stop     scancel every job, then stop the daemons by PID
#   tests/cluster/slurm-cluster.sh status   exit 0 if the cluster answers, and show it
#   tests/cluster/slurm-cluster.sh env      print `export SLURM_CONF=...` for the clients:
#                                           eval "$(tests/cluster/slurm-cluster.sh env)"; sinfo
#
# Environment: SLURM_CLUSTER_DIR (state directory, default /tmp/msad-slurm),
# SLURM_CLUSTER_PORT (slurmctld's port; slurmd uses the next one; default 6817).
# Needs: apt-get install -y slurmctld slurmd slurm-client munge
set -euo pipefail

DIR=${SLURM_CLUSTER_DIR:-/tmp/msad-slurm}
CTLD_PORT=${SLURM_CLUSTER_PORT:-6817}
SLURMD_PORT=$((CTLD_PORT + 1))
CONF=$DIR/slurm.conf
SYSTEM_CONF=/etc/slurm/slurm.conf
MARKER="# Written by tests/cluster/slurm-cluster.sh"
export SLURM_CONF=$CONF
NODE=$(hostname -s)
PACKAGES="slurmctld slurmd slurm-client munge"

die() {
    echo "slurm-cluster: $*" >&2
    exit 1
}
say() { echo "slurm-cluster: $*" >&2; }

pid_of() { # the PID in a pid file, if that process is alive and still the named daemon
    local file=$1 name=$2 pid
    [ -s "$file" ] || return 1
    pid=$(cat "$file")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    echo "$pid"
}

answers() { # slurmctld answers and the node is up
    [ -f "$CONF" ] && timeout 10 scontrol ping >/dev/null 2>&1 &&
        timeout 10 sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'
}

check_requirements() {
    [ "$(id -u)" = 0 ] || die "must run as root (the daemons run jobs as the submitting user)"
    local missing=()
    for tool in munged mungekey slurmctld slurmd sbatch srun squeue scancel scontrol sinfo runuser; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ ${#missing[@]} = 0 ] || die "missing ${missing[*]}; install with: apt-get update && apt-get install -y $PACKAGES"
    id munge >/dev/null 2>&1 || die "no user 'munge' (the munge package creates it)"
    if [ -e "$SYSTEM_CONF" ] || [ -L "$SYSTEM_CONF" ]; then
        # ours (a link to a test cluster's config, maybe of an earlier run) may be replaced
        [ -L "$SYSTEM_CONF" ] && { [ ! -e "$SYSTEM_CONF" ] || head -n 1 "$SYSTEM_CONF" | grep -qF "$MARKER"; } ||
            die "$SYSTEM_CONF exists and belongs to another SLURM set-up; not replacing it"
    fi
    local port
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port is in use (another SLURM?); set SLURM_CLUSTER_PORT to a free port pair"
        fi
    done
}

write_config() {
    # The node as slurmd sees the hardware, with every CPU (the real count: jobs of other users
    # of this machine compete for the same cores) and RealMemory 10% below the machine's.
    local hardware cpus memory
    hardware=$(slurmd -C | head -n 1)
    cpus=$(nproc)
    memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
    memory=$((memory * 9 / 10))
    if ! grep -q "CPUs=$cpus " <<<"$hardware"; then # the process sees fewer CPUs than the hardware
        hardware="NodeName=$NODE CPUs=$cpus"
    fi
    hardware=$(sed "s/ RealMemory=[0-9]*//; s/^NodeName=[^ ]*/NodeName=$NODE/" <<<"$hardware")
    cat >"$CONF" <<EOF
$MARKER: a single-node test cluster without systemd.
ClusterName=msad-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups here: track job processes through /proc, bind no tasks
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# CPUs and memory are consumable: a job gets the cores and MB it asks for
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# no accounting database: sacct cannot answer, so clients query squeue; finished jobs stay
# visible to squeue for MinJobAge seconds (above 3x the executor's first status check)
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
$hardware RealMemory=$memory NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    if answers; then
        say "already running (SLURM_CONF=$CONF)"
        return 0
    fi
    check_requirements
    stop_daemons quiet # leftovers of an earlier start whose node never came up
    rm -rf "$DIR"
    mkdir -p "$DIR"/{munge,state,spool,log}
    chmod 755 "$DIR"
    # munge: a key of its own, a socket in the state directory, run as user munge
    chown munge:munge "$DIR/munge"
    chmod 700 "$DIR/munge"
    runuser -u munge -- mungekey --create --keyfile="$DIR/munge/munge.key"
    chmod 755 "$DIR/munge" # clients (any user) must reach the socket
    runuser -u munge -- munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
        --seed-file="$DIR/munge/munged.seed" --force ||
        die "munged did not start: $(tail -n 5 "$DIR/munge/munged.log" 2>/dev/null)"
    cp "$DIR/munge/munged.pid" "$DIR/munged.pid"
    write_config
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -sfn "$CONF" "$SYSTEM_CONF"
    slurmctld -f "$CONF" || die "slurmctld did not start: $(tail -n 5 "$DIR/log/slurmctld.log" 2>/dev/null)"
    slurmd -f "$CONF" -N "$NODE" || die "slurmd did not start: $(tail -n 5 "$DIR/log/slurmd.log" 2>/dev/null)"
    local waited=0
    until answers; do
        sleep 0.25
        waited=$((waited + 1))
        if [ $waited -ge 120 ]; then
            sinfo --long --nodes="$NODE" >&2 || true
            tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
            die "the node did not become idle within 30 s"
        fi
    done
    say "running: node $NODE, $(sinfo --noheader --format='%c CPUs, %m MB') (SLURM_CONF=$CONF)"
}

stop_daemons() { # by PID, slurmd first; SIGKILL whatever ignores SIGTERM for 10 s
    local quiet=${1:-} name pid waited
    for name in slurmd slurmctld munged; do
        pid=$(pid_of "$DIR/$name.pid" "$name") || continue
        kill "$pid"
        waited=0
        while kill -0 "$pid" 2>/dev/null && [ $waited -lt 40 ]; do
            sleep 0.25
            waited=$((waited + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        [ -n "$quiet" ] || say "stopped $name (PID $pid)"
    done
}

stop() {
    if [ -f "$CONF" ] && pid_of "$DIR/slurmctld.pid" slurmctld >/dev/null; then
        # slurmd leaves running job steps alive when it stops: cancel every job first, and
        # wait until no job step runs on the node any more
        local jobs waited=0
        jobs=$(squeue --noheader --format=%i --states=PENDING,RUNNING,CONFIGURING,COMPLETING 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            say "cancelling jobs $(echo $jobs)"
            scancel $jobs || true
        fi
        while [ $waited -lt 80 ]; do
            jobs=$(squeue --noheader --format=%i --states=PENDING,RUNNING,CONFIGURING,COMPLETING 2>/dev/null || true)
            [ -z "$jobs" ] && break
            sleep 0.25
            waited=$((waited + 1))
        done
        [ -z "$jobs" ] || say "jobs still ending after 20 s: $(echo $jobs)"
        local step_pids
        step_pids=$(scontrol listpids 2>/dev/null | awk 'NR > 1 {print $1}' || true)
        if [ -n "$step_pids" ]; then
            say "killing leftover job processes $(echo $step_pids)"
            kill -9 $step_pids 2>/dev/null || true
        fi
    fi
    stop_daemons
    [ "$(readlink "$SYSTEM_CONF" 2>/dev/null)" != "$CONF" ] || rm -f "$SYSTEM_CONF"
}

status() {
    if answers; then
        sinfo --long
        squeue --states=all
        return 0
    fi
    say "not running (SLURM_CONF=$CONF)"
    return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*) die "usage: $0 start|stop|status|env" ;;
esac
