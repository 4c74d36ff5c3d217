// SPDX-License-Identifier: GPL-2.0

//! Module parameters: every knob can be given at `insmod` time
//! (`insmod nofail_watchdog.ko stall_warn_ms=1000 scope=all`), validated by
//! the same parser as the sysfs files; a bad value makes `insmod` fail with
//! `-EINVAL`. `modinfo` lists each one with its description and default.
//! `sys::params` lays them out for the module loader.

use crate::config;
use crate::logic::fmtbuf::FmtBuf;
use crate::logic::knobs::{self, Knob};
use crate::sys::params::{ParamHandler, ParamSpec};
use core::fmt::Write;
use kernel::prelude::*;

/// The module's `author` modinfo.
pub(crate) const AUTHOR: &str = "nofail-watchdog developers";

/// One parameter per knob, in `Knob` order.
pub(crate) const SPECS: [ParamSpec; knobs::COUNT] = {
    const fn spec(k: Knob) -> ParamSpec {
        let d = k.desc();
        ParamSpec {
            name: config::CNAMES[k as usize],
            desc: ["parm=", d.name, ":", d.help],
            ty: ["parmtype=", d.name, ":", config::param_type(k)],
        }
    }
    let mut i = 0;
    // Filled in below; `ParamSpec` is not `Copy`.
    let mut out = [const {
        ParamSpec {
            name: c"",
            desc: [""; 4],
            ty: [""; 4],
        }
    }; knobs::COUNT];
    while i < knobs::COUNT {
        out[i] = spec(knobs::ALL[i]);
        i += 1;
    }
    out
};

/// What setting and reading a knob parameter does.
pub(crate) struct Params;

impl ParamHandler for Params {
    fn set(i: usize, val: &[u8]) -> Result {
        let k = knobs::ALL.get(i).copied().ok_or(EINVAL)?;
        config::set(k, val).map(|_| ()).map_err(|_| {
            pr_err!("invalid value for parameter {}\n", k.name());
            EINVAL
        })
    }

    fn get(i: usize, w: &mut FmtBuf<'_>) {
        if let Some(&k) = knobs::ALL.get(i) {
            let _ = config::format(k, w);
            let _ = w.write_char('\n');
        }
    }
}
