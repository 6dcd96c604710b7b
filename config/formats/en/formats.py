# Django's English formats with the zone (format character ``T``: WIB, WITA, WIT).
DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
