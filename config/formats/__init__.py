"""Date and time formats per language (``FORMAT_MODULE_PATH``): Django's own, with the time
zone's abbreviation appended to every date-and-time format, so a time in the admin or an e-mail
always says which zone it is in ("1 Des. 2026, 14.05 WIB"). Other formats are Django's."""
