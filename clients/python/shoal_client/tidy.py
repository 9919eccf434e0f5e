"""The tidy form of an output value: one (asset, field, value) triple per number.

The same rule as `shoal export --tidy` (docs/clients.md):
- a scalar is one row, field "value", no asset;
- a map with an `assets` list: every entry that is a list as long as `assets` gives one row per
  asset under the entry's name (a vector output {assets, values} gives field "values");
  its other entries are rows without an asset;
- any other map: its entries, nested names joined with "."; a list that is not per asset stays
  one value.
"""


def tidy_rows(value, field="value"):
    rows = []
    _flatten(value, None, rows)
    return [(asset, name or field, v) for asset, name, v in rows]


def _flatten(value, prefix, rows, asset=None):
    if isinstance(value, dict):
        assets = value.get("assets")
        per_asset = isinstance(assets, list)
        for key in value:
            if per_asset and key == "assets":
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            entry = value[key]
            if per_asset and isinstance(entry, list) and len(entry) == len(assets):
                for a, v in zip(assets, entry):
                    _flatten(v, name, rows, a)
            else:
                _flatten(entry, name, rows, asset)
    else:
        rows.append((asset, prefix, value))
