// The few lines of behaviour the console's dialogs need. No inline scripts anywhere: a Content-Security-Policy
// may forbid them. Dialogs follow django-htmx-patterns' modal recipe: htmx appends a <dialog
// data-onload-showmodal> to <body>, this shows it as a modal (focus trapped, Escape closes) and removes it on close.
(function () {
  "use strict";

  var opener = null;
  // What opened the dialog that produced the token reveal: focus goes back there when the reveal is dismissed.
  var revealOpener = null;

  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) return;
    region.textContent = "";
    // A fresh text node after a tick, so that the same message twice is announced twice.
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  function focusFallback() {
    var heading = document.getElementById("tokens-title") || document.getElementById("inventory-title") ||
      document.getElementById("main");
    if (heading) heading.focus();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-dialog-opener]")) opener = elt;
  });

  htmx.onLoad(function (content) {
    // "Show more" of the scope picker replaced itself with the next children: focus goes on to the first.
    if (content.matches && content.matches("[data-focus-on-load]")) {
      var first = content.querySelector("summary, select");
      if (first) first.focus();
    }
    // "Select all" only works with this script, so it only shows with it.
    if (content.querySelectorAll) {
      content.querySelectorAll("[data-check-all]").forEach(function (box) { box.hidden = false; });
    }
    var dialog = content.matches && content.matches("dialog[data-onload-showmodal]")
      ? content
      : content.querySelector && content.querySelector("dialog[data-onload-showmodal]");
    if (dialog) {
      dialog.removeAttribute("data-onload-showmodal");
      var back = opener;
      opener = null;
      dialog.addEventListener("close", function () {
        dialog.remove();
        // A token was just generated or rotated: the dialog made way for the panel with the secret, which gets
        // focus; dismissing it returns to what opened the dialog.
        var fresh = document.querySelector("[data-reveal][data-reveal-new]");
        if (fresh) {
          fresh.removeAttribute("data-reveal-new");
          revealOpener = back;
          var secret = fresh.querySelector("[autofocus]");
          if (secret) { secret.focus(); return; }
        }
        // Focus goes back to what opened the dialog ("+", or a row's Delete); when that row is gone, to the list.
        if (back && back.isConnected) back.focus();
        else focusFallback();
      });
      dialog.showModal();
      return;
    }
    // The reveal arrives while its dialog is still open; the dialog's close moves focus into it.
    var panel = content.matches && content.matches("[data-reveal]")
      ? content
      : content.querySelector && content.querySelector("[data-reveal]");
    if (panel && document.querySelector("dialog[open]")) panel.setAttribute("data-reveal-new", "");
    // Copying needs this script (and a browser that allows it): the button only shows where it can work.
    if (content.querySelectorAll && (navigator.clipboard || document.queryCommandSupported && document.queryCommandSupported("copy"))) {
      content.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
    }
    // New content inside an open dialog (errors): move focus where its autofocus says.
    var open = content.closest && content.closest("dialog[open]");
    if (open) {
      var target = content.matches("[autofocus]") ? content : content.querySelector("[autofocus]");
      if (target) target.focus();
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var id = event.detail.target.id;
    // A tab switched in place: the page is now that tab's, as if it had loaded. Its heading gets focus (the next
    // Tab goes on from there), the title follows, and the switch is announced.
    if (id === "user-tabs") {
      var panel = event.detail.target.querySelector("[data-title]");
      if (panel) document.title = panel.getAttribute("data-title");
      var heading = event.detail.target.querySelector("h2[tabindex]");
      if (heading) {
        heading.focus();
        announce(heading.textContent.trim() + " tab");
      }
      return;
    }
    // Results filtered in place: their count is read out by the one live region, never swapped itself.
    if (id === "people-results" || id === "inventory-results" || id === "audit-results") {
      var count = event.detail.target.querySelector(".result-count");
      // Not when the results refresh themselves after a change: that change has its own announcement.
      var from = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (count && from && from.id !== id) {
        announce(count.textContent.replace(/\s+/g, " ").trim());
      }
    }
    // The list was refreshed under a focused control that no longer exists (a deleted row).
    if ((id === "token-list" || id === "inventory-results") && !document.querySelector("dialog[open]") &&
        (document.activeElement === document.body || !document.activeElement)) {
      focusFallback();
    }
  });

  document.body.addEventListener("closeDialog", function () {
    var dialog = document.querySelector("dialog[open]");
    if (dialog) dialog.close();
  });

  document.body.addEventListener("tokensChanged", function (event) {
    announce(event.detail && event.detail.message);
  });

  function dismissReveal(panel) {
    var returnTo = panel.getAttribute("data-return-to");
    panel.remove();
    // After a rotation the row that opened the dialog was replaced: back to the new token's row.
    var row = returnTo && document.getElementById(returnTo);
    var target = row ? row.querySelector("[data-rotate]") || row.querySelector("button") : revealOpener;
    revealOpener = null;
    if (target && target.isConnected) target.focus();
    else focusFallback();
  }

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss-reveal]");
    if (dismiss) {
      var panel = dismiss.closest("[data-reveal]");
      if (panel) {
        event.preventDefault();
        dismissReveal(panel);
        announce("The token is no longer shown.");
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.getAttribute("data-copy"));
      if (!field) return;
      var done = function () {
        copy.textContent = "Copied";
        announce("Token copied to the clipboard.");
      };
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          if (document.execCommand("copy")) done();
        });
      } else if (document.execCommand("copy")) {
        done();
      }
    }
  });

  // The create dialog: when the token will expire, said as the duration is typed, in the viewer's zone.
  var UNIT_SECONDS = { m: 60, h: 3600, d: 86400, w: 604800 };

  function moment(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZoneName: "short"
    }).formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + " " +
      parts.timeZoneName;
  }

  function updateExpiry(form) {
    var preview = form.querySelector("[data-expiry-preview]");
    if (!preview) return;
    var count = Number(form.elements.duration && form.elements.duration.value);
    var size = UNIT_SECONDS[form.elements.unit && form.elements.unit.value];
    var model = form.querySelector('input[name="expiration_model"]:checked');
    var auto = model && model.value === "auto";
    form.querySelectorAll("[data-auto-refresh-only]").forEach(function (field) { field.hidden = !auto; });
    if (!Number.isInteger(count) || count < 1 || !size) {
      preview.textContent = "Give a duration to see when the token will expire.";
      return;
    }
    var end;
    try {
      end = moment(new Date(Date.now() + count * size * 1000), preview.getAttribute("data-zone") || undefined);
    } catch (error) {
      return;
    }
    preview.textContent = auto
      ? "Unused for that long, this token expires on " + end + "; each use pushes it back."
      : "This token will expire on " + end + ".";
  }

  htmx.onLoad(function (content) {
    if (!content.querySelectorAll) return;
    content.querySelectorAll("[data-presets]").forEach(function (group) { group.hidden = false; });
    content.querySelectorAll("[data-expiry-preview]").forEach(function (preview) {
      var form = preview.closest("form");
      if (form) updateExpiry(form);
    });
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (form && form.querySelector("[data-expiry-preview]")) updateExpiry(form);
  });

  document.addEventListener("click", function (event) {
    var preset = event.target.closest && event.target.closest("[data-preset]");
    if (!preset) return;
    var form = preset.closest("form");
    form.elements.duration.value = preset.getAttribute("data-preset");
    form.elements.unit.value = "d";
    updateExpiry(form);
  });

  document.addEventListener("change", function (event) {
    var changed = event.target.closest && event.target.closest("form");
    if (changed && changed.querySelector("[data-expiry-preview]")) updateExpiry(changed);
    var all = event.target.closest && event.target.closest("[data-check-all]");
    if (!all) return;
    var form = all.closest("form");
    if (!form) return;
    form.querySelectorAll('input[type="checkbox"][name="token"]').forEach(function (box) { box.checked = all.checked; });
  });

  document.addEventListener("keydown", function (event) {
    // Enter in a folder's search box searches; it must not submit the create form around it.
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-scope-search]")) {
      event.preventDefault();
      htmx.trigger(event.target, "search");
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-all]")) event.target.select();
  });
})();
