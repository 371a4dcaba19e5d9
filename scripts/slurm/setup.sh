#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the distributed tests and for trying
# `pclean submit` / cluster_type='slurm' without a real cluster.
#
# Idempotent: a cluster that is already up (sinfo shows the node idle or in use) is left alone.
# Needs root and apt (Debian's slurm-wlm and munge packages). No systemd and no cgroups: the
# daemons run in the background (this machine may be a container), processes are tracked with
# proctrack/linuxproc and tasks are not confined (task/none).
#
# Environment:
#   PCLEAN_SLURM_CPUS  CPUs the node advertises [default: max(nproc, 4)]. More than the cores
#                      are allowed (SlurmdParameters=config_overrides) because a `pclean submit`
#                      coordinator job and its worker jobs must run at the same time on a 2-core
#                      test machine; they mostly wait on each other.
#   PCLEAN_SLURM_TIMEOUT_S  seconds to wait for the node to become idle [default: 60].
# Exit status: 0 when the cluster is up; non-zero with the reason on stderr otherwise.
set -euo pipefail

log() { echo "slurm-setup: $*" >&2; }
die() { log "$*"; exit 1; }

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true; }

if command -v sinfo >/dev/null 2>&1; then
    case "$(node_state)" in
        idle*|mixed*|allocated*|completing*) log "already running ($(node_state))"; exit 0 ;;
    esac
fi

[ "$(id -u)" = 0 ] || die "needs root (to install slurm-wlm and munge and start their daemons)"

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install slurm-wlm and munge by hand"
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || die "apt-get install slurm-wlm munge failed"
fi

host=$(hostname -s)
ncores=$(nproc)
cpus=${PCLEAN_SLURM_CPUS:-$(( ncores > 4 ? ncores : 4 ))}
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
conf_dir=/etc/slurm
mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge

cat > "$conf_dir/slurm.conf" <<CONF
# Written by pclean's scripts/slurm/setup.sh: one node, no cgroups, daemons run as root.
ClusterName=pclean
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
# Some Debian tools look for the file under /etc/slurm-llnl (older layout).
[ -e /etc/slurm-llnl ] || ln -s "$conf_dir" /etc/slurm-llnl 2>/dev/null || true

# munge: a key, owned by the munge user, and the daemon.
id munge >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin munge
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key --force
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --force || die "munged failed to start (see /var/log/munge/munged.log)"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
    munge -n | unmunge >/dev/null 2>&1 || die "munge does not work (see /var/log/munge/munged.log)"
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive /run/slurmctld.pid; then
    log "starting slurmctld"
    slurmctld -c 2>>/var/log/slurm/slurmctld.start.log || die "slurmctld failed (see /var/log/slurm/slurmctld.log)"
fi
if ! alive /run/slurmd.pid; then
    log "starting slurmd"
    slurmd 2>>/var/log/slurm/slurmd.start.log || die "slurmd failed (see /var/log/slurm/slurmd.log)"
fi

deadline=$(( $(date +%s) + ${PCLEAN_SLURM_TIMEOUT_S:-60} ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(node_state)
    case "$state" in
        idle*|mixed*|allocated*) log "node $host is $state"; exit 0 ;;
        down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
die "node $host did not become idle in time (state: '$(node_state)'; see /var/log/slurm/*.log)"
