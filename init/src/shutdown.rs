//! What a shutdown request means, pure: the BusyBox signal conventions and
//! the `reboot(2)` command each one ends with.

/// How the machine ends up after stage 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Reboot,
    Halt,
    PowerOff,
}

impl Ending {
    /// BusyBox init's signals: TERM reboot, USR1 halt, USR2 poweroff, and INT
    /// (Ctrl-Alt-Del, once `reboot(RB_DISABLE_CAD)` routes it to init) reboot.
    pub fn from_signal(sig: i32) -> Option<Ending> {
        match sig {
            libc::SIGTERM | libc::SIGINT => Some(Ending::Reboot),
            libc::SIGUSR1 => Some(Ending::Halt),
            libc::SIGUSR2 => Some(Ending::PowerOff),
            _ => None,
        }
    }

    /// The signal the `reboot`/`halt`/`poweroff` applets send to PID 1.
    pub fn signal(self) -> i32 {
        match self {
            Ending::Reboot => libc::SIGTERM,
            Ending::Halt => libc::SIGUSR1,
            Ending::PowerOff => libc::SIGUSR2,
        }
    }

    /// The `reboot(2)` command.
    pub fn reboot_command(self) -> rustix::system::RebootCommand {
        use rustix::system::RebootCommand;
        match self {
            Ending::Reboot => RebootCommand::Restart,
            Ending::Halt => RebootCommand::Halt,
            Ending::PowerOff => RebootCommand::PowerOff,
        }
    }

    pub fn from_applet(name: &str) -> Option<Ending> {
        match name {
            "reboot" => Some(Ending::Reboot),
            "halt" => Some(Ending::Halt),
            "poweroff" => Some(Ending::PowerOff),
            _ => None,
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Ending::Reboot => "reboot",
            Ending::Halt => "halt",
            Ending::PowerOff => "power off",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_conventions() {
        assert_eq!(Ending::from_signal(libc::SIGTERM), Some(Ending::Reboot));
        assert_eq!(Ending::from_signal(libc::SIGINT), Some(Ending::Reboot));
        assert_eq!(Ending::from_signal(libc::SIGUSR1), Some(Ending::Halt));
        assert_eq!(Ending::from_signal(libc::SIGUSR2), Some(Ending::PowerOff));
        assert_eq!(Ending::from_signal(libc::SIGHUP), None);
        for e in [Ending::Reboot, Ending::Halt, Ending::PowerOff] {
            assert_eq!(Ending::from_signal(e.signal()), Some(e));
        }
        assert_eq!(Ending::from_applet("poweroff"), Some(Ending::PowerOff));
        // the same numbers as libc's RB_* constants
        assert_eq!(Ending::PowerOff.reboot_command() as i32, libc::RB_POWER_OFF);
        assert_eq!(Ending::Reboot.reboot_command() as i32, libc::RB_AUTOBOOT);
        assert_eq!(Ending::Halt.reboot_command() as i32, libc::RB_HALT_SYSTEM);
    }
}
