// Messages that are not plain text (`kind` other than "text"): one renderer per kind, shared
// by the visitor page and the staff console. A kind without a renderer is shown as text.
import { referralCard } from "./referral.js";
import { guidanceCard } from "./guidance.js";

const RENDERERS = {
  referral: referralCard,
  guidance: guidanceCard,
};

// The element to show in place of a message body of this kind, or null for plain text.
export function renderCard(S, kind, body) {
  const render = kind && RENDERERS[kind];
  return render ? render(S, body) : null;
}
