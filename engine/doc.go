// Package engine is the core of Persona Workbench: everything that is not
// user interface. It is split into small packages with one job each:
//
//   - inventory: the field inventory, the licence's data list, which drives
//     every query (nothing about a particular data set is hard-coded);
//   - store: an embedded, in-memory DuckDB hardened for locked-down
//     workstations (no extensions, no network, no spill files, no file
//     access once the data is loaded);
//   - slice: aggregate queries of 0-2 dimensions with filters, a measure,
//     sort and top-N, where every cell carries the number of people behind it
//     and cells behind fewer than k people are withheld inside the database.
//
// The engine never imports the terminal UI; the UI reaches it only through
// commands that return messages.
package engine
