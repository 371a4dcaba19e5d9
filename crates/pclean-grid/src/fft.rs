//! fft (in progress)
