// The offline library as the box serves it (GET /api/library, /api/library/tree, /api/library/items/<id>):
// shared by the sync room that fills it and the kiosk that shows it.

export const itemKinds = ['video', 'courseware-pdf', 'slides', 'image', 'audio', 'textbook', 'exercise-set'] as const;
export type ItemKind = (typeof itemKinds)[number];

/** One catalogue item, as the signed manifest lists it. */
export interface CatalogItemView {
  id: string;
  title: string;
  subject: string;
  grade: number;
  edition: string;
  unit: string;
  kind: ItemKind;
  size: number;
  infohash: string;
  sha256: string;
  fileName: string;
  webSeeds: string[];
  tags: string[];
  /** A folder item (a digital textbook): how many files it holds. */
  fileCount?: number | undefined;
}

/** An item this box holds, complete and verified. */
export interface LibraryItem extends CatalogItemView {
  completedAt: number;
  pinned: boolean;
}

/** One page of a search; `total` is a lower bound ("more than N") when `totalExact` is false. */
export interface LibraryPage {
  items: LibraryItem[];
  total: number;
  totalExact: boolean;
}

/** Grades → subjects → units of what the library holds (GET /api/library/tree → { entries }). */
export interface LibraryTreeEntry {
  grade: number;
  subject: string;
  unit: string;
  count: number;
}

export interface LibraryQuery {
  q?: string;
  grade?: number;
  subject?: string;
  unit?: string;
}
