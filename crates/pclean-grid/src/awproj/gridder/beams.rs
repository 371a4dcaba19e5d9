//! The A-term beams of the awproject gridder's grid sets: per beam frequency, pointing and
//! parallactic-angle bin, the image and weight beams and the aliasing table.

use super::{AwGridder, BinBeams};
use crate::awproj::beam::{AwBeams, BeamGrid};
use crate::awproj::kernel::{AliasTable, ALIAS_ORDER};
use ndarray::Array2;

impl AwGridder {
    /// The beams of every grid set (`(beam * npointings + pointing) * nbins + bin`).
    pub(super) fn make_beams(&self) -> Vec<BinBeams> {
        (0..self.beam_freqs.len())
            .flat_map(|b| {
                let partner = self.partner_of(b).map(|p| self.beam_freqs[p]);
                self.beams_at(self.beam_freqs[b], partner)
            })
            .collect()
    }

    /// The beams of one beam frequency's sets (`pointing * nbins + bin`); with a `partner`
    /// frequency (conjugate beams) the weight beams pair each hand with the other hand at the
    /// partner's frequency, `(P_R(nu) P_L(nu') + P_L(nu) P_R(nu')) / 2` (tclean's weight
    /// functions `A(nu) A(nu')*` with the conjugate polarisation, both hands averaged).
    pub(super) fn beams_at(&self, freq_hz: f64, partner: Option<f64>) -> Vec<BinBeams> {
        let spec = self.inner.base().spec();
        let Some(geom) = self.geom else {
            let unit = BinBeams {
                image: Array2::ones((spec.ny, spec.nx)),
                weight: Array2::ones((spec.ny, spec.nx)),
                alias: AliasTable::unit(),
            };
            return vec![unit; self.pointings.len() * self.nbins()];
        };
        let grid = BeamGrid {
            nx: spec.nx,
            ny: spec.ny,
            cell_rad: [spec.cell_x_rad, spec.cell_y_rad],
            centre_px: [(spec.nx / 2) as f64, (spec.ny / 2) as f64],
        };
        let n = 2 * ALIAS_ORDER + 1;
        let lattice = BeamGrid {
            nx: n,
            ny: n,
            cell_rad: [
                spec.nx as f64 * spec.cell_x_rad,
                spec.ny as f64 * spec.cell_y_rad,
            ],
            centre_px: [ALIAS_ORDER as f64, ALIAS_ORDER as f64],
        };
        let grids: Vec<BeamGrid> = self
            .pointings
            .iter()
            .map(|p| BeamGrid {
                centre_px: p.centre_px,
                ..grid
            })
            .collect();
        let per_bin: Vec<Vec<BinBeams>> = self
            .bins_pa_rad
            .iter()
            .map(|pa| {
                let l = AwBeams::new(geom, freq_hz, *pa, &lattice);
                let alias = AliasTable::new(&l);
                let other = partner
                    .filter(|f| *f != freq_hz)
                    .map(|f| AwBeams::pointed(geom, f, *pa, &grids));
                AwBeams::pointed(geom, freq_hz, *pa, &grids)
                    .into_iter()
                    .enumerate()
                    .map(|(p, b)| BinBeams {
                        image: b.image_beam(),
                        weight: match &other {
                            Some(o) => b.weight_beam_with(&o[p]),
                            None => b.weight_beam(),
                        },
                        alias: alias.clone(),
                    })
                    .collect()
            })
            .collect();
        // Set `pointing * nbins + bin`.
        (0..self.pointings.len())
            .flat_map(|p| per_bin.iter().map(move |bins| bins[p].clone()))
            .collect()
    }
}
