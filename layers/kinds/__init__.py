"""Layer kinds: the attribute schema of each kind of kaartlaag, and its validation.

The schemas are data (``layers/data/kinds.yaml``), read into validated models
(:mod:`layers.kinds.schema`). Source values are coerced by a registry of coercers
(:mod:`layers.kinds.coercion`), columns matched to fields (:mod:`layers.kinds.matching`)
and a whole table checked at once, collecting *every* problem (feature, field, message)
instead of stopping at the first (:mod:`layers.kinds.validation`). The same check serves
file imports (thousands of rows) and single features created through the API (one row).

This package re-exports the names other modules import.
"""

from layers.kinds.coercion import (
    COERCERS,
    AttributeLimits,
    Coercer,
    CoercionContext,
    GemeenteNames,
    coercer_for,
)
from layers.kinds.matching import (
    RESERVED_NAMES,
    ColumnMatch,
    match_columns,
    resolve_columns,
    sanitize_field_name,
)
from layers.kinds.schema import (
    CLASSIFYING_TYPES,
    FIELD_TYPES,
    KINDS_FILE,
    FieldSpec,
    GeometryByValueRule,
    Kind,
    KindRegistry,
    KindsFileError,
    OrderRule,
    Problem,
    Rule,
    SumRule,
    UnknownKind,
    fold_word,
    load_kinds,
)
from layers.kinds.validation import (
    MappedValue,
    SourceRules,
    ValidatedAttributes,
    ValueMapping,
    check_geometry_rules,
    check_rules,
    validate_attributes,
)

__all__ = [
    "CLASSIFYING_TYPES",
    "COERCERS",
    "FIELD_TYPES",
    "KINDS_FILE",
    "RESERVED_NAMES",
    "AttributeLimits",
    "Coercer",
    "CoercionContext",
    "ColumnMatch",
    "FieldSpec",
    "GemeenteNames",
    "GeometryByValueRule",
    "Kind",
    "KindRegistry",
    "KindsFileError",
    "MappedValue",
    "OrderRule",
    "Problem",
    "Rule",
    "SourceRules",
    "SumRule",
    "UnknownKind",
    "ValidatedAttributes",
    "ValueMapping",
    "check_geometry_rules",
    "check_rules",
    "coercer_for",
    "fold_word",
    "load_kinds",
    "match_columns",
    "resolve_columns",
    "sanitize_field_name",
    "validate_attributes",
]
