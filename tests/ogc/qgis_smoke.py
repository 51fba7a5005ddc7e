"""QGIS smoke check, run by Debian's /usr/bin/python3 with python3-qgis (not the project venv).

Usage: python3 qgis_smoke.py GPKG QGZ OAPIF_URL COLLECTION

Prints one JSON object: for each GeoPackage layer its validity, feature count, renderer
and the colour of its first symbol (the default style from layer_styles); for the
project its CRS and layers (valid or not); for the OAPIF collection its feature count.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsProject, QgsRenderContext, QgsVectorLayer


def renderer_info(layer):
    r = layer.renderer()
    symbols = r.symbols(QgsRenderContext()) if r else []
    return {"renderer": r.type() if r else None, "colours": [s.color().name() for s in symbols]}


def main(gpkg, qgz, url, collection):
    app = QgsApplication([], False)
    app.initQgis()
    out = {
        "qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION,
        "gpkg": {},
        "project": {},
        "oapif": {},
    }
    probe = QgsVectorLayer(gpkg, "probe", "ogr")
    names = [s.split("!!::!!")[1] for s in probe.dataProvider().subLayers()]
    for name in sorted(set(names) - {"layer_styles"}):
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        out["gpkg"][name] = {
            "valid": layer.isValid(),
            "count": layer.featureCount(),
            **renderer_info(layer),
            "alias_1": layer.attributeAlias(1),
        }
    project = QgsProject.instance()
    out["project"]["read"] = project.read(qgz)
    out["project"]["crs"] = project.crs().authid()
    out["project"]["layers"] = {
        lyr.name(): {
            "valid": lyr.isValid(),
            "provider": lyr.providerType(),
            **(renderer_info(lyr) if isinstance(lyr, QgsVectorLayer) else {}),
            **({"count": lyr.featureCount()} if isinstance(lyr, QgsVectorLayer) else {}),
        }
        for lyr in project.mapLayers().values()
    }
    oapif = QgsVectorLayer(f"url='{url}' typename='{collection}'", collection, "OAPIF")
    out["oapif"] = {
        "valid": oapif.isValid(),
        "count": oapif.featureCount(),
        "fetched": sum(1 for _ in oapif.getFeatures()) if oapif.isValid() else None,
    }
    print(json.dumps(out), flush=True)
    # Leave without tearing QGIS down: its exit after a project read can crash (a known
    # QGIS 3.22 issue), and the result is printed already.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:5])
