/**
 * Partial success of a map step (`minSuccess`): the map succeeds when enough items succeed, and its
 * output carries the successful outputs (in item order) and the failed items.
 */

/** A count of items (e.g. 8) or a share of them ('80%'). */
export type MinSuccess = number | `${number}%`;

export interface FailedMapItem<Item> {
  index: number;
  item: Item;
  error: { message: string; name?: string };
}

/** What dependents of a map step with `minSuccess` receive. */
export interface PartialMapOutput<R, Item> {
  succeeded: R[];
  failed: FailedMapItem<Item>[];
}

/** minSuccess as a count of `items` items: a share rounds up; a count above the item count means every item. */
export function minSuccessCount(min: MinSuccess, items: number): number {
  if (typeof min === 'number') return Math.min(min, items);
  return Math.min(items, Math.ceil((items * Number(min.slice(0, -1))) / 100));
}

/** The output of a map step over no items, in the shape its dependents expect. */
export function emptyMapOutputJson(partial: boolean): string {
  return partial ? '{"succeeded":[],"failed":[]}' : '[]';
}
