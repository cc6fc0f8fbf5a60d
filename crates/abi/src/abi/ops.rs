//! The operation table: the one place an operation is defined.
//!
//! Each line of [`operations!`] gives an operation its number, its name and its argument
//! fields. From it come the [`Op`] enum and its checked decoding, one `#[repr(C)]` argument
//! struct per operation, the decoded [`Call`] the kernel dispatches on, and the field
//! metadata used by the layout snapshot, the docs and the tracer.
//!
//! Rules, checked by the layout snapshot test: numbers are never reused or changed,
//! operations are only appended, and fields are only appended to an operation's arguments
//! (the request size tells the kernel which fields a caller knows).

use core::mem::{offset_of, size_of};

use super::errno::Errno;
use super::layout::{Args, Field, FieldInfo, Pad32, Request};

macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $num:literal => $name:ident($args:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $fty:ty ),* $(,)?
        });
    )*) => {
        /// An operation number.
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Op {
            $( $(#[doc = $doc])* $name = $num, )*
        }

        impl Op {
            /// Every operation, in numeric order.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// The operation numbered `raw`, if there is one. This is the only way from an
            /// untrusted number to an `Op`.
            pub const fn from_raw(raw: u64) -> Option<Op> {
                match raw {
                    $($num => Some(Op::$name),)*
                    _ => None,
                }
            }

            /// The operation's number.
            pub const fn raw(self) -> u32 {
                self as u32
            }

            /// The operation's name, as in the table.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Op::$name => stringify!($name),)*
                }
            }

            /// The size of the operation's arguments in this version of the ABI.
            pub const fn args_size(self) -> usize {
                match self {
                    $(Op::$name => size_of::<$args>(),)*
                }
            }

            /// The size of a whole request for the operation in this version of the ABI.
            pub const fn request_size(self) -> usize {
                match self {
                    $(Op::$name => size_of::<Request<$args>>(),)*
                }
            }

            /// The operation's argument fields.
            pub const fn fields(self) -> &'static [FieldInfo] {
                match self {
                    $(Op::$name => <$args as Args>::FIELDS,)*
                }
            }
        }

        /// A decoded request: what the kernel dispatches on.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Call {
            $( $(#[doc = $doc])* $name($args), )*
        }

        impl Call {
            /// Decodes the arguments of `op` from `bytes`, the bytes after the answer slot
            /// zero-extended to the size this ABI knows.
            pub fn decode_args(op: Op, bytes: &[u8]) -> Result<Call, Errno> {
                match op {
                    $(Op::$name => Ok(Call::$name(<$args as Args>::decode(bytes)?)),)*
                }
            }

            /// The operation of this call.
            pub const fn op(&self) -> Op {
                match self {
                    $(Call::$name(_) => Op::$name,)*
                }
            }
        }

        $(
            $(#[doc = $doc])*
            #[doc = ""]
            #[doc = concat!("The arguments of [`Op::", stringify!($name), "`].")]
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $args {
                $( $(#[doc = $fdoc])* pub $field: $fty, )*
            }

            impl Args for $args {
                const OP: Op = Op::$name;
                const FIELDS: &'static [FieldInfo] = &[$(
                    FieldInfo {
                        name: stringify!($field),
                        offset: offset_of!($args, $field),
                        ty: <$fty as Field>::TYPE,
                    },
                )*];

                fn decode(bytes: &[u8]) -> Result<Self, Errno> {
                    Ok($args {
                        $( $field: <$fty as Field>::decode(bytes, offset_of!($args, $field))?, )*
                    })
                }
            }

            // No implicit padding, and a size that keeps the next request aligned.
            const _: () = {
                assert!(0 $(+ <$fty as Field>::TYPE.size())* == size_of::<$args>());
                assert!(size_of::<$args>() % 8 == 0);
                assert!(size_of::<Request<$args>>() == Request::<()>::ARGS_OFFSET + size_of::<$args>());
            };
        )*
    };
}

operations! {
    /// The seed's demonstration call: answers `value + 15`, or `EOVERFLOW` when that does
    /// not fit in a `u32`.
    1 => Useless(UselessArgs {
        /// The number to add 15 to.
        value: u32,
        /// Padding, zero.
        pad0: Pad32,
    });
}

/// The largest request size of any operation in this version of the ABI: the kernel copies
/// a request into a stack buffer of this size.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, where it cannot fail"
)]
pub const MAX_KNOWN_REQUEST_SIZE: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < Op::ALL.len() {
        let size = Op::ALL[i].request_size();
        if size > max {
            max = size;
        }
        i += 1;
    }
    max
};
