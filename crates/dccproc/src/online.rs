//! Which DCC server dccproc talks to: the servers of the map file when it
//! exists, otherwise none, as the original cannot start its client without
//! the map file (it then complains and adds no X-DCC header).

use std::path::Path;
use tally_engine::dcc_client::{BlockingDccClient, DccClient};
use tally_engine::map_save::Saved;
use tally_engine::server::{AskError, ClientInfo, DccServer, NoServer, Request};

/// The server of one dccproc run.
pub enum Server {
    /// The servers of the map file.
    Online(Box<BlockingDccClient>),
    /// No map file, or one that cannot be used.
    Offline(NoServer),
}

impl Server {
    /// The server for the map file at `map` (absolute). A map file that
    /// cannot be read or used gives a complaint and no server, as does a
    /// missing one (whose complaint comes from [`DccServer::start`]).
    pub fn open(map: &Path, hostname: &str, complain: &mut dyn FnMut(&str)) -> Server {
        let offline = || Server::Offline(NoServer::new(map, hostname));
        if std::fs::metadata(map).is_err() {
            return offline();
        }
        let client = match DccClient::open(map, hostname) {
            Ok(c) => c,
            Err(e) => {
                complain(&e);
                return offline();
            }
        };
        match BlockingDccClient::new(client) {
            Ok(b) => Server::Online(Box::new(b)),
            Err(e) => {
                complain(&format!("DCC client: {}", tally_engine::errno_str(&e)));
                offline()
            }
        }
    }

    /// Save the servers' state in the map file if it changed; the
    /// complaint if writing failed.
    pub fn save(&self) -> Result<Saved, String> {
        match self {
            Server::Online(c) => c.inner().save_map(),
            Server::Offline(_) => Ok(Saved::Unchanged),
        }
    }
}

impl DccServer for Server {
    fn start(&mut self) -> Result<ClientInfo, String> {
        match self {
            Server::Online(c) => c.start(),
            Server::Offline(n) => n.start(),
        }
    }

    fn ask(&mut self, req: &Request) -> Result<tally_engine::server::Answer, AskError> {
        match self {
            Server::Online(c) => c.ask(req),
            Server::Offline(n) => n.ask(req),
        }
    }

    fn current_info(&self) -> Option<ClientInfo> {
        match self {
            Server::Online(c) => c.current_info(),
            Server::Offline(n) => n.current_info(),
        }
    }
}
