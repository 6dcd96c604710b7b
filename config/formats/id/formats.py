# Django's Indonesian formats with the zone (format character ``T``: WIB, WITA, WIT).
DATETIME_FORMAT = "j N Y, G.i T"
SHORT_DATETIME_FORMAT = "d-m-Y G.i T"
