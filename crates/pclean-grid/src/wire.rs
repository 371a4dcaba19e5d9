//! Arrays in serialised values as one little-endian byte string (`#[serde(with =
//! "pclean_grid::wire")]`) instead of one element at a time: what the weighters and images sent
//! between a coordinator and its row partitions carry (a 4096^2 plane is one copy, not 16 million
//! calls into the serialiser).

use ndarray::Array2;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserializer, Serializer};
use std::fmt;

/// An element type with a fixed little-endian byte form.
pub trait LeElement: Copy + Sized {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

impl LeElement for f32 {
    const SIZE: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(b: &[u8]) -> Self {
        f32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
}

impl LeElement for f64 {
    const SIZE: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(b: &[u8]) -> Self {
        f64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
}

/// One byte per element (masks).
impl LeElement for bool {
    const SIZE: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn get(b: &[u8]) -> Self {
        b[0] != 0
    }
}

struct Bytes<'a>(&'a [u8]);

impl serde::Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct ByteBuf(Vec<u8>);

impl<'de> serde::Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            // Formats without byte strings (JSON) write them as sequences.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteBuf, A::Error> {
                let mut v = Vec::new();
                while let Some(b) = seq.next_element()? {
                    v.push(b);
                }
                Ok(ByteBuf(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// `a` as `(rows, columns, bytes)`.
pub fn serialize<T: LeElement, S: Serializer>(a: &Array2<T>, s: S) -> Result<S::Ok, S::Error> {
    let mut bytes = Vec::with_capacity(a.len() * T::SIZE);
    a.iter().for_each(|v| v.put(&mut bytes));
    let mut t = s.serialize_tuple(3)?;
    t.serialize_element(&a.nrows())?;
    t.serialize_element(&a.ncols())?;
    t.serialize_element(&Bytes(&bytes))?;
    t.end()
}

/// The array [`serialize`] wrote.
pub fn deserialize<'de, T: LeElement, D: Deserializer<'de>>(d: D) -> Result<Array2<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: LeElement> Visitor<'de> for V<T> {
        type Value = Array2<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("(rows, columns, bytes)")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Array2<T>, A::Error> {
            let missing = || A::Error::custom("an array needs rows, columns and bytes");
            let ny: usize = seq.next_element()?.ok_or_else(missing)?;
            let nx: usize = seq.next_element()?.ok_or_else(missing)?;
            let b: ByteBuf = seq.next_element()?.ok_or_else(missing)?;
            if b.0.len() != ny * nx * T::SIZE {
                return Err(A::Error::custom(format!(
                    "an array of {ny} x {nx} elements of {} bytes carries {} bytes",
                    T::SIZE,
                    b.0.len()
                )));
            }
            let v: Vec<T> = b.0.chunks_exact(T::SIZE).map(T::get).collect();
            Array2::from_shape_vec((ny, nx), v).map_err(A::Error::custom)
        }
    }
    d.deserialize_tuple(3, V(std::marker::PhantomData))
}

/// [`serialize`] / [`deserialize`] for an optional array.
pub mod option {
    use super::LeElement;
    use ndarray::Array2;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wrap<T: LeElement>(
        #[serde(
            serialize_with = "super::serialize",
            deserialize_with = "super::deserialize"
        )]
        Array2<T>,
    );

    pub fn serialize<T: LeElement, S: Serializer>(
        a: &Option<Array2<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        a.as_ref().map(|a| Wrap(a.clone())).serialize(s)
    }

    pub fn deserialize<'de, T: LeElement, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Array2<T>>, D::Error> {
        Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
    }
}

/// [`serialize`] / [`deserialize`] for a list of arrays (Taylor terms).
pub mod vec {
    use super::LeElement;
    use ndarray::Array2;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    pub(super) struct Wrap<T: LeElement>(
        #[serde(
            serialize_with = "super::serialize",
            deserialize_with = "super::deserialize"
        )]
        pub(super) Array2<T>,
    );

    pub fn serialize<T: LeElement, S: Serializer>(
        a: &[Array2<T>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let w: Vec<Wrap<T>> = a.iter().map(|a| Wrap(a.clone())).collect();
        w.serialize(s)
    }

    pub fn deserialize<'de, T: LeElement, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Array2<T>>, D::Error> {
        Ok(Vec::<Wrap<T>>::deserialize(d)?
            .into_iter()
            .map(|w| w.0)
            .collect())
    }
}

/// [`serialize`] / [`deserialize`] for an optional list of arrays.
pub mod option_vec {
    use super::vec::Wrap;
    use super::LeElement;
    use ndarray::Array2;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: LeElement, S: Serializer>(
        a: &Option<Vec<Array2<T>>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        a.as_ref()
            .map(|v| v.iter().map(|a| Wrap(a.clone())).collect::<Vec<_>>())
            .serialize(s)
    }

    pub fn deserialize<'de, T: LeElement, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<Array2<T>>>, D::Error> {
        Ok(Option::<Vec<Wrap<T>>>::deserialize(d)?.map(|v| v.into_iter().map(|w| w.0).collect()))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        a: Array2<f64>,
        #[serde(with = "super::option")]
        b: Option<Array2<f32>>,
        #[serde(with = "super::option_vec")]
        c: Option<Vec<Array2<f32>>>,
        #[serde(with = "super::vec")]
        d: Vec<Array2<f32>>,
    }

    #[test]
    fn arrays_round_trip_exactly_through_json() {
        let a = Array2::from_shape_fn((3, 2), |(i, j)| (i as f64 + 0.1) / (j as f64 + 3.0));
        let b = Some(Array2::from_shape_fn((1, 4), |(_, j)| {
            f32::EPSILON * j as f32
        }));
        let c = Some(vec![
            Array2::from_elem((2, 2), 0.5f32),
            Array2::zeros((2, 2)),
        ]);
        let d = vec![Array2::from_elem((1, 1), -1.25f32)];
        let t = T { a, b, c, d };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), t);
        let bad = s.replacen("3,2", "3,3", 1);
        assert!(serde_json::from_str::<T>(&bad)
            .unwrap_err()
            .to_string()
            .contains("carries"));
    }
}
