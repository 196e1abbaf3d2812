//! The cluster's nodes as child processes of `electorate node`, so that a
//! kill is a real `SIGKILL`: no destructor runs, no buffer is flushed, and
//! what survives is what the node had written — and with `lazy_disk`,
//! exactly what it had fsynced.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::core::node::NodeId;

/// How to start every node of the cluster.
#[derive(Clone, Debug)]
pub struct Launch {
    pub executable: PathBuf,
    pub cluster_id: u64,
    pub addresses: BTreeMap<NodeId, SocketAddr>,
    pub data_dir: PathBuf,
    pub seed: u64,
    /// A `tracing` filter for the nodes' logs (`<data_dir>/node-<id>.log`).
    pub log: Option<String>,
    /// Run the nodes with `--lazy-disk`: a SIGKILL loses what they did not
    /// fsync.
    pub lazy_disk: bool,
}

impl Launch {
    /// Picks a free loopback port for each of `nodes` nodes. The ports are
    /// released before the nodes bind them; on a quiet machine nobody takes
    /// them in between.
    pub fn free_addresses(nodes: usize) -> std::io::Result<BTreeMap<NodeId, SocketAddr>> {
        let listeners = (1..=nodes as NodeId)
            .map(|id| Ok((id, TcpListener::bind("127.0.0.1:0")?)))
            .collect::<std::io::Result<Vec<_>>>()?;
        listeners
            .iter()
            .map(|(id, listener)| Ok((*id, listener.local_addr()?)))
            .collect()
    }

    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        self.data_dir.join(format!("node-{id}"))
    }

    fn command(&self, id: NodeId, incarnation: u64) -> Command {
        let mut command = Command::new(&self.executable);
        command
            .arg("node")
            .arg("--id")
            .arg(id.to_string())
            .arg("--listen")
            .arg(self.addresses[&id].to_string())
            .arg("--data-dir")
            .arg(self.node_dir(id))
            .arg("--cluster-id")
            .arg(self.cluster_id.to_string())
            // A distinct seed per node and per restart, all derived from
            // the run's seed.
            .arg("--seed")
            .arg((self.seed ^ (id << 32) ^ incarnation).to_string())
            .arg("--control-stdin");
        for (&peer, address) in self.addresses.iter().filter(|(&peer, _)| peer != id) {
            command.arg("--peer").arg(format!("{peer}={address}"));
        }
        if let Some(filter) = &self.log {
            command.arg("--log").arg(filter);
        }
        if self.lazy_disk {
            command.arg("--lazy-disk");
        }
        command
    }
}

/// What every node is started with beyond [`Launch`]: where it serves
/// its metrics, and the config file of its timings and limits.
#[derive(Clone, Debug, Default)]
pub struct NodeExtras {
    pub metrics: BTreeMap<NodeId, SocketAddr>,
    pub config_file: Option<PathBuf>,
}

/// The running node processes.
pub struct Processes {
    launch: Launch,
    extras: NodeExtras,
    children: BTreeMap<NodeId, Child>,
    incarnations: BTreeMap<NodeId, u64>,
}

impl Processes {
    pub fn start_all(launch: Launch) -> std::io::Result<Processes> {
        Processes::start_all_with(launch, NodeExtras::default())
    }

    /// [`Processes::start_all`], every node started with `extras`.
    pub fn start_all_with(launch: Launch, extras: NodeExtras) -> std::io::Result<Processes> {
        std::fs::create_dir_all(&launch.data_dir)?;
        let mut processes = Processes {
            launch,
            extras,
            children: BTreeMap::new(),
            incarnations: BTreeMap::new(),
        };
        let ids: Vec<NodeId> = processes.launch.addresses.keys().copied().collect();
        for id in ids {
            processes.start(id)?;
        }
        Ok(processes)
    }

    pub fn start(&mut self, id: NodeId) -> std::io::Result<()> {
        let incarnation = {
            let count = self.incarnations.entry(id).or_insert(0);
            *count += 1;
            *count
        };
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(id))?;
        let mut command = self.launch.command(id, incarnation);
        if let Some(address) = self.extras.metrics.get(&id) {
            command.arg("--metrics-listen").arg(address.to_string());
        }
        if let Some(path) = &self.extras.config_file {
            command.arg("--config").arg(path);
        }
        let child = command
            // The node exits when this pipe closes: when we exit, however
            // we exit, no node outlives us.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.children.insert(id, child);
        Ok(())
    }

    /// Sends node `id` one control line (`block ID...` or `heal`).
    pub fn control(&mut self, id: NodeId, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        match self
            .children
            .get_mut(&id)
            .and_then(|child| child.stdin.as_mut())
        {
            Some(stdin) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            None => Ok(()),
        }
    }

    /// Every member, running or not.
    pub fn all_ids(&self) -> Vec<NodeId> {
        self.launch.addresses.keys().copied().collect()
    }

    pub fn running(&self) -> Vec<NodeId> {
        self.children.keys().copied().collect()
    }

    /// `SIGKILL`s node `id` and reaps it.
    pub fn kill(&mut self, id: NodeId) {
        if let Some(mut child) = self.children.remove(&id) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn kill_all(&mut self) {
        let ids: Vec<NodeId> = self.children.keys().copied().collect();
        for id in ids {
            self.kill(id);
        }
    }

    pub fn is_running(&self, id: NodeId) -> bool {
        self.children.contains_key(&id)
    }

    /// Node ids whose process exited on its own (a crash we did not cause).
    pub fn exited(&mut self) -> Vec<(NodeId, String)> {
        let mut exited = Vec::new();
        for (&id, child) in self.children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                exited.push((id, status.to_string()));
            }
        }
        for (id, _) in &exited {
            self.children.remove(id);
        }
        exited
    }

    pub fn log_path(&self, id: NodeId) -> PathBuf {
        self.launch.data_dir.join(format!("node-{id}.log"))
    }

    pub fn data_dir(&self) -> &Path {
        &self.launch.data_dir
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.kill_all();
    }
}
