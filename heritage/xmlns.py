"""XML namespaces that our records (Dublin Core, MODS, OAI-PMH) write and harvests read."""

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
MODS = "http://www.loc.gov/mods/v3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
