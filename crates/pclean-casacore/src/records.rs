//! Record-valued columns (casacore `ScalarColumn<TableRecord>`), read as plain Rust values, e.g.
//! the `pbdescription` column of a voltage-pattern table written by CASA's vpmanager. The glue
//! (`cpp/record_glue.cc`) reports each leaf field as a text line; numbers round-trip exactly.

use crate::columns::ReadTable;
use crate::error::TableError;
use std::path::Path;

/// One field of a record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    Bool(bool),
    /// Any scalar number.
    Double(f64),
    String(String),
    /// A 1-D numeric array.
    Doubles(Vec<f64>),
    /// A 2-D numeric array, `m[j][i]` = casacore's `Matrix(i, j)` (one inner vector per column).
    DoubleMatrix(Vec<Vec<f64>>),
    Record(Record),
    /// A field of a type not read here (casacore `DataType` number).
    Other(i32),
}

/// A record: its fields in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub fields: Vec<(String, FieldValue)>,
}

impl Record {
    /// The field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Insert `value` at the dotted `path`, creating sub-records.
    fn insert(&mut self, path: &str, value: FieldValue) {
        match path.split_once('.') {
            None => self.fields.push((path.to_string(), value)),
            Some((head, rest)) => {
                if !matches!(self.get(head), Some(FieldValue::Record(_))) {
                    self.fields
                        .push((head.to_string(), FieldValue::Record(Record::default())));
                }
                if let Some((_, FieldValue::Record(sub))) =
                    self.fields.iter_mut().rev().find(|(n, _)| n == head)
                {
                    sub.insert(rest, value);
                }
            }
        }
    }
}

fn parse_line(line: &str) -> Option<(String, FieldValue)> {
    let mut it = line.splitn(3, '\t');
    let (path, kind, text) = (it.next()?, it.next()?, it.next()?);
    let num = |s: &str| s.trim().parse::<f64>().ok();
    let value = match kind {
        "b" => FieldValue::Bool(text == "1"),
        "n" => FieldValue::Double(num(text)?),
        "s" => FieldValue::String(text.to_string()),
        "a" => {
            let (shape, values) = text.split_once(';')?;
            let shape: Vec<usize> = shape
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| num(s).map(|v| v as usize))
                .collect::<Option<_>>()?;
            let values: Vec<f64> = values
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(num)
                .collect::<Option<_>>()?;
            match shape.as_slice() {
                [_] => FieldValue::Doubles(values),
                [n0, _] if *n0 > 0 => {
                    FieldValue::DoubleMatrix(values.chunks(*n0).map(|c| c.to_vec()).collect())
                }
                _ => FieldValue::Other(-1),
            }
        }
        _ => FieldValue::Other(num(text).map_or(-1, |v| v as i32)),
    };
    Some((path.to_string(), value))
}

/// Every cell of the record column `column` of the table at `path`.
pub fn read_record_column(path: &Path, column: &str) -> Result<Vec<Record>, TableError> {
    let t = ReadTable::open(path)?;
    (0..t.n_rows())
        .map(|row| {
            let mut rec = Record::default();
            for line in t.record_cell_fields(column, row)? {
                let Some((p, v)) = parse_line(&line) else {
                    return Err(TableError::Invalid {
                        table: path.to_path_buf(),
                        column: column.to_string(),
                        message: format!("row {row}: unreadable record field '{line}'"),
                    });
                };
                rec.insert(&p, v);
            }
            Ok(rec)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_nested_records() {
        let mut r = Record::default();
        for l in [
            "name\ts\tAIRY",
            "maxrad.value\tn\t1.5",
            "maxrad.unit\ts\tdeg",
            "isthisvp\tb\t0",
            "coeff\ta\t2,3;1 2 3 4 5 6",
        ] {
            let (p, v) = parse_line(l).unwrap();
            r.insert(&p, v);
        }
        assert_eq!(r.get("name"), Some(&FieldValue::String("AIRY".into())));
        let Some(FieldValue::Record(q)) = r.get("maxrad") else {
            panic!("maxrad is a record")
        };
        assert_eq!(q.get("value"), Some(&FieldValue::Double(1.5)));
        assert_eq!(r.get("isthisvp"), Some(&FieldValue::Bool(false)));
        assert_eq!(
            r.get("coeff"),
            Some(&FieldValue::DoubleMatrix(vec![
                vec![1.0, 2.0],
                vec![3.0, 4.0],
                vec![5.0, 6.0]
            ]))
        );
    }
}
