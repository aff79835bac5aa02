"""The old location of the trace tables and their notation: see scalargrad.tables and scalargrad.notation."""

from .notation.names import BAR as BAR
from .notation.names import DOT as DOT
from .notation.names import GREEK_LATEX as GREEK_LATEX
from .notation.names import LATEX as LATEX
from .notation.names import MINUS as MINUS
from .notation.names import NAMED_CONSTANTS as NAMED_CONSTANTS
from .notation.names import STYLES as STYLES
from .notation.names import SUBSCRIPTS as SUBSCRIPTS
from .notation.names import TEXT as TEXT
from .notation.names import TIMES as TIMES
from .notation.names import Digits as Digits
from .notation.names import Named as Named
from .notation.names import Precision as Precision
from .notation.names import Printed as Printed
from .notation.names import Printer as Printer
from .notation.names import Rounder as Rounder
from .notation.names import Summand as Summand
from .notation.names import ascii_name as ascii_name
from .notation.names import bulk as bulk
from .notation.names import format_number as format_number
from .notation.names import json_number as json_number
from .notation.names import last_digit as last_digit
from .notation.names import latex_name as latex_name
from .notation.names import text_name as text_name
from .notation.names import visible as visible
from .notation.numbering import Graph as Graph
from .notation.numbering import as_outputs as as_outputs
from .notation.numbering import describe as describe
from .notation.numbering import with_tangent as with_tangent
from .tables import AUTO_DIGITS as AUTO_DIGITS
from .tables import AUTO_DIGITS_MAX_ROWS as AUTO_DIGITS_MAX_ROWS
from .tables import Row as Row
from .tables import Table as Table
from .tables import Term as Term
from .tables import Trace as Trace
from .tables import check_digits as check_digits
from .tables import mismatches as mismatches
from .tables import trace as trace

_last_digit = last_digit
_latex_name = latex_name

__all__ = ["Row", "Table", "Trace", "format_number", "text_name", "trace"]
