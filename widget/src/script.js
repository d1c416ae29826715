/*
 * callbridge widget for Kommo.
 *
 * Plain AMD, no build step. The callbridge server's public URL is filled in
 * when the widget is built (`callbridge widget build`).
 *
 * What it does:
 *   - keeps a WebSocket to callbridge (ticket from POST /api/widget/realtime/ticket)
 *     and shows incoming calls with APP.notifications.add_call;
 *   - opens the call-result window when a call the manager handled ends;
 *   - click-to-call on every phone number, and a keypad behind Kommo's phone button;
 *   - call lists from a selection in the leads or contacts list;
 *   - the settings form (provider credentials, checked by callbridge before saving)
 *     and the advanced settings page: managers' extensions, call windows, smart
 *     forwarding and the call-handling rules (pipelines, stages and task types read
 *     from Kommo with the manager's own session).
 */
define(['jquery', 'lib/components/base/modal'], function ($, Modal) {
  'use strict';

  var BACKEND_URL = '__CALLBRIDGE_PUBLIC_URL__';
  var NS = 'callbridge_widget';
  var ROOT = 'callbridge_widget';
  var RING_LIMIT_MS = 60000;
  var PANEL_HIDE_MS = 15000;
  // SETTINGS_METHOD saves the settings: PUT replaces the whole settings
  // object (the server also takes POST on /api/widget/settings).
  var SETTINGS_METHOD = 'PUT';
  var KNOWN_FIELDS = {
    twilio: { optional: ['caller_id'], secret: ['auth_token'] }
  };

  var CallbridgeWidget = function () {
    var self = this;
    var state = {
      backend: BACKEND_URL.replace(/\/+$/, ''),
      settings: null,
      prefs: { ring_sound: true, open_card: false, result_window: true, quality_rating: false },
      started: false,
      stopped: false,
      ws: null,
      wsAttempt: 0,
      wsTimer: null,
      calls: {},
      placed: {},
      ringer: null,
      resultOpen: false,
      list: null,
      listCall: null,
      listTimer: null,
      listDeadline: 0,
      setup: null
    };

    // ---- helpers -------------------------------------------------------

    function lang(section) {
      var v = self.i18n(section);
      return v && typeof v === 'object' ? v : {};
    }

    function t(path) {
      var parts = path.split('.');
      var v = lang(parts[0]);
      for (var i = 1; i < parts.length && v; i++) {
        v = v[parts[i]];
      }
      return typeof v === 'string' ? v : path;
    }

    function texts() {
      return {
        widget: lang('widget'), settings: lang('settings'), advanced: lang('advanced'),
        ui: lang('ui'), result: lang('result'), list: lang('list'), rules: lang('rules')
      };
    }

    function esc(s) {
      return String(s === undefined || s === null ? '' : s)
        .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    }

    function me() {
      var sys = self.system() || {};
      return parseInt(sys.amouser_id, 10) || 0;
    }

    // isDark tells Kommo's dark theme: the user's theme when Kommo says it,
    // otherwise the page's background.
    function isDark() {
      try {
        var user = APP.constant('user') || {};
        if (user.theme) {
          return String(user.theme).indexOf('dark') !== -1;
        }
      } catch (e) {
        // no user constant: look at the page
      }
      var bg = window.getComputedStyle(document.body).backgroundColor || '';
      var m = bg.match(/\d+/g);
      if (!m || m.length < 3 || (m.length > 3 && parseFloat(m[3]) === 0)) {
        return false;
      }
      var lum = (0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2]) / 255;
      return lum < 0.4;
    }

    function rootClass(extra) {
      return ROOT + (isDark() ? ' ' + ROOT + '--dark' : '') + (extra ? ' ' + extra : '');
    }

    function template(name, data) {
      return new Promise(function (resolve, reject) {
        data = $.extend({ t: texts(), root: rootClass(), images: self.params.images_path || (self.params.path + '/images') }, data || {});
        try {
          self.render({
            href: '/templates/' + name + '.twig',
            base_path: self.params.path,
            load: function (tpl) {
              resolve(tpl.render(data));
            }
          }, data);
        } catch (e) {
          reject(e);
        }
      });
    }

    function api(method, path, body) {
      return new Promise(function (resolve, reject) {
        var opts = {
          url: state.backend + path,
          type: method,
          method: method,
          dataType: 'json',
          timeout: 25000
        };
        if (body !== undefined) {
          opts.data = JSON.stringify(body);
          opts.contentType = 'application/json';
        }
        var req = self.$authorizedAjax(opts);
        req.then(function (data) {
          resolve(data || {});
        }, function (xhr) {
          var body = xhr && xhr.responseJSON;
          var err = new Error(body && body.error && body.error.message ? body.error.message : t('ui.network_error'));
          err.status = xhr ? xhr.status : 0;
          err.code = body && body.error ? body.error.code : '';
          reject(err);
        });
      });
    }

    // kommo calls Kommo's own API from the page (the user's session).
    function kommo(path) {
      return new Promise(function (resolve) {
        $.ajax({ url: path, type: 'GET', dataType: 'json', timeout: 8000 })
          .then(function (data) { resolve(data || {}); }, function () { resolve({}); });
      });
    }

    function notifyError(text) {
      try {
        APP.notifications.show_message_error({ header: t('widget.name'), text: text });
      } catch (e) {
        if (window.console) {
          window.console.warn('callbridge: ' + text);
        }
      }
    }

    function notifyOK(text) {
      try {
        APP.notifications.show_message({ header: t('widget.name'), text: text });
      } catch (e) {
        // notifications are optional
      }
    }

    function formatDuration(sec) {
      sec = parseInt(sec, 10) || 0;
      var m = Math.floor(sec / 60);
      var s = sec % 60;
      return m + ':' + (s < 10 ? '0' : '') + s;
    }

    function entityLabel(type) {
      if (type === 'leads') {
        return t('result.lead');
      }
      if (type === 'companies') {
        return t('result.company');
      }
      return t('result.contact');
    }

    // openModal shows html in Kommo's modal. onReady gets the body and a
    // handle whose destroy closes the modal (Kommo calls init before the
    // Modal constructor returns, so the handle stands in for it).
    function openModal(html, className, onReady) {
      var handle = {
        modal: null,
        closing: false,
        destroy: function () {
          if (handle.modal) {
            handle.modal.destroy();
          } else {
            handle.closing = true;
          }
        }
      };
      handle.modal = new Modal({
        class_name: 'modal-window ' + NS + '-modal ' + (className || ''),
        init: function ($body) {
          $body.trigger('modal:loaded');
          $body.html(html);
          $body.trigger('modal:centrify');
          if (onReady) {
            onReady($body, handle);
          }
        },
        destroy: function () {
          return true;
        }
      });
      if (handle.closing) {
        handle.modal.destroy();
      }
      return handle;
    }

    function dock() {
      var $d = $('#' + NS + '-dock');
      if (!$d.length) {
        $d = $('<div id="' + NS + '-dock"></div>').appendTo(document.body);
      }
      $d.attr('class', rootClass(NS + '-dock'));
      return $d;
    }

    // ---- settings and preferences -------------------------------------

    function loadSettings() {
      return api('GET', '/api/widget/settings').then(function (s) {
        state.settings = s;
        if (s.prefs) {
          state.prefs = s.prefs;
        }
        return s;
      });
    }

    // ---- ringing sound --------------------------------------------------

    function startRing() {
      stopRing();
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) {
        return;
      }
      try {
        var ctx = new Ctx();
        var gain = ctx.createGain();
        gain.gain.value = 0;
        gain.connect(ctx.destination);
        var a = ctx.createOscillator();
        var b = ctx.createOscillator();
        a.frequency.value = 440;
        b.frequency.value = 480;
        a.connect(gain);
        b.connect(gain);
        a.start();
        b.start();
        var on = false;
        var started = Date.now();
        var timer = setInterval(function () {
          on = !on;
          gain.gain.value = on ? 0.08 : 0;
          if (Date.now() - started > RING_LIMIT_MS) {
            stopRing();
          }
        }, 1000);
        state.ringer = { ctx: ctx, timer: timer };
      } catch (e) {
        state.ringer = null;
      }
    }

    function stopRing() {
      if (!state.ringer) {
        return;
      }
      clearInterval(state.ringer.timer);
      try {
        state.ringer.ctx.close();
      } catch (e) {
        // already closed
      }
      state.ringer = null;
    }

    // ---- realtime channel -----------------------------------------------

    function connect() {
      if (state.stopped || state.ws) {
        return;
      }
      api('POST', '/api/widget/realtime/ticket').then(function (r) {
        if (state.stopped) {
          return;
        }
        var ws;
        try {
          ws = new WebSocket(r.url);
        } catch (e) {
          reconnectLater();
          return;
        }
        state.ws = ws;
        ws.onmessage = function (ev) {
          var msg;
          try {
            msg = JSON.parse(ev.data);
          } catch (e) {
            return;
          }
          if (msg.type === 'hello') {
            state.wsAttempt = 0;
            $(document.body).attr('data-' + NS + '-realtime', 'online');
          } else if (msg.type === 'call') {
            onCall(msg);
          }
        };
        ws.onclose = function () {
          if (state.ws === ws) {
            state.ws = null;
          }
          $(document.body).attr('data-' + NS + '-realtime', 'offline');
          reconnectLater();
        };
      }, function () {
        reconnectLater();
      });
    }

    // reconnectLater retries with exponential backoff (1 s doubling to
    // 30 s, with jitter).
    function reconnectLater() {
      if (state.stopped || state.wsTimer) {
        return;
      }
      var attempt = Math.min(state.wsAttempt, 5);
      state.wsAttempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
      delay = delay / 2 + Math.random() * delay / 2;
      state.wsTimer = setTimeout(function () {
        state.wsTimer = null;
        connect();
      }, delay);
    }

    function onCall(msg) {
      var c = msg.call || {};
      if (msg.prefs) {
        state.prefs = msg.prefs;
      }
      var known = state.calls[c.uid] || {};
      known.msg = msg;
      state.calls[c.uid] = known;
      var placed = state.placed[c.provider_call_id];
      if (!placed && c.placed_id && state.placed[c.placed_id]) {
        // The provider names the call otherwise than the id it was placed
        // with (Plivo): from now on, the call's own id.
        placed = state.placed[c.placed_id];
        delete state.placed[c.placed_id];
        placed.provider_call_id = c.provider_call_id;
        state.placed[c.provider_call_id] = placed;
        if (state.listCall === c.placed_id) {
          state.listCall = c.provider_call_id;
        }
      }
      if (placed) {
        placed.uid = c.uid;
        placed.status = c.status;
        placed.caller = msg.caller || placed.caller;
        updatePanel(placed, msg.phase, c);
      }
      if (msg.phase === 'ringing') {
        if (c.direction === 'inbound' && !known.popup) {
          known.popup = true;
          showIncoming(msg);
        }
        return;
      }
      stopRing();
      var forMe = msg.user_id === me() || !!placed;
      if (msg.phase === 'answered') {
        if (forMe && msg.user_id === me() && state.prefs.open_card && msg.caller && msg.caller.link && !known.opened) {
          known.opened = true;
          openCard(msg.caller.link);
        }
        return;
      }
      if (msg.phase === 'ended' && forMe && !known.result) {
        known.result = true;
        if (placed && placed.resultSaved) {
          return;
        }
        if (state.list && state.listCall === c.provider_call_id) {
          state.listCall = null;
        }
        if (state.prefs.result_window && !c.has_result) {
          openResult({
            uid: c.uid,
            connection_id: c.connection_id,
            provider_call_id: c.provider_call_id,
            direction: c.direction,
            status: c.status,
            duration: c.duration,
            number: c.customer_number,
            caller: msg.caller || (placed && placed.caller) || null,
            entity: placed ? placed.entity : null
          });
        } else {
          listContinue();
        }
      }
    }

    function openCard(link) {
      try {
        if (APP.router && APP.router.navigate) {
          APP.router.navigate(link, { trigger: true });
          return;
        }
      } catch (e) {
        // fall through
      }
      window.location.href = link;
    }

    function showIncoming(msg) {
      var c = msg.call;
      var caller = msg.caller || { number: c.customer_number };
      var text;
      if (caller.name) {
        text = esc(caller.name) + ' <span class="' + NS + '-num">' + esc(caller.number) + '</span>';
      } else if (caller.create_link) {
        text = esc(caller.number) + ' — <a href="' + esc(caller.create_link) + '">' + esc(t('ui.create_contact')) + '</a>';
      } else {
        text = esc(caller.number || t('ui.unknown_caller'));
      }
      var n = {
        text: t('ui.incoming') + ': ' + text,
        date: Math.floor(Date.now() / 1000),
        from: caller.number || '',
        to: (self.system() || {}).amouser || ''
      };
      if (caller.entity_id && caller.link) {
        n.element = { id: caller.entity_id, type: String(caller.entity_type || 'contacts').replace(/s$/, '').replace(/ie$/, 'y') };
        n.link = caller.link;
      } else if (caller.create_link) {
        n.click_link = caller.create_link;
      }
      try {
        APP.notifications.add_call(n);
      } catch (e) {
        notifyOK(n.text);
      }
      if (state.prefs.ring_sound) {
        startRing();
      }
    }

    // ---- click-to-call ----------------------------------------------------

    function currentEntity() {
      try {
        var card = APP.data && APP.data.current_card;
        if (card && card.id) {
          var type = card.element_type || (APP.getBaseEntity ? APP.getBaseEntity() : '');
          var map = { lead: 'leads', leads: 'leads', contact: 'contacts', contacts: 'contacts', company: 'companies', companies: 'companies', customer: 'customers', customers: 'customers' };
          if (map[type]) {
            return { entity_type: map[type], entity_id: parseInt(card.id, 10), name: card.name || '' };
          }
        }
      } catch (e) {
        // not in a card
      }
      return null;
    }

    function dial(number, entity) {
      number = String(number || '').trim();
      if (!number) {
        return Promise.reject(new Error(t('ui.number_placeholder')));
      }
      var placed = { number: number, entity: entity || null, status: 'placing' };
      updatePanel(placed, 'placing');
      return api('POST', '/api/widget/calls', { phone: number }).then(function (r) {
        placed.connection_id = r.connection_id;
        placed.provider_call_id = r.provider_call_id;
        placed.number = r.customer_number || number;
        state.placed[r.provider_call_id] = placed;
        updatePanel(placed, 'calling');
        return r;
      }, function (err) {
        placed.error = err.message;
        updatePanel(placed, 'error');
        notifyError(t('ui.placing_failed') + ': ' + err.message);
        throw err;
      });
    }

    function panelState(phase, c) {
      if (phase === 'placing' || phase === 'calling' || phase === 'ringing') {
        return t('ui.calling');
      }
      if (phase === 'answered') {
        return t('ui.talking');
      }
      if (phase === 'error') {
        return t('ui.placing_failed');
      }
      if (phase === 'ended') {
        if (c && c.status === 'busy') {
          return t('ui.busy');
        }
        if (c && c.status === 'missed') {
          return t('ui.no_answer');
        }
        if (c && c.status === 'failed') {
          return t('ui.failed');
        }
        return t('ui.ended') + (c && c.duration ? ' · ' + formatDuration(c.duration) : '');
      }
      return '';
    }

    function updatePanel(placed, phase, c) {
      var $d = dock();
      if (!placed.$el) {
        placed.$el = $('<div class="' + NS + '-panel ' + NS + '-call"></div>').prependTo($d);
      }
      placed.phase = phase;
      var name = (placed.caller && placed.caller.name) || (placed.entity && placed.entity.name) || '';
      var html = '<div class="' + NS + '-panel__head">' +
        '<span class="' + NS + '-panel__title">' + esc(name || placed.number) + '</span>' +
        '<button type="button" class="' + NS + '-x ' + NS + '-js-close" title="' + esc(t('ui.close')) + '">×</button></div>' +
        (name ? '<div class="' + NS + '-panel__sub">' + esc(placed.number) + '</div>' : '') +
        '<div class="' + NS + '-panel__state ' + NS + '-state-' + esc(phase) + '">' + esc(panelState(phase, c)) + '</div>' +
        (placed.error ? '<div class="' + NS + '-error">' + esc(placed.error) + '</div>' : '') +
        '<div class="' + NS + '-panel__actions">' +
        (placed.provider_call_id && !placed.resultSaved ? '<button type="button" class="' + NS + '-btn ' + NS + '-js-result">' + esc(t('ui.result')) + '</button>' : '') +
        (phase === 'error' || (phase === 'ended' && c && c.status !== 'completed') ? '<button type="button" class="' + NS + '-btn ' + NS + '-btn--primary ' + NS + '-js-recall">' + esc(t('ui.recall')) + '</button>' : '') +
        '</div>';
      placed.$el.attr('data-call', placed.provider_call_id || '').html(html);
      if (phase === 'ended' && (!c || c.status === 'completed') && !placed.hideTimer) {
        placed.hideTimer = setTimeout(function () {
          if (placed.$el && !state.resultOpen) {
            placed.$el.remove();
            placed.$el = null;
          }
        }, PANEL_HIDE_MS);
      }
      placed.$el.find('.' + NS + '-js-close').on('click', function () {
        placed.$el.remove();
        placed.$el = null;
      });
      placed.$el.find('.' + NS + '-js-result').on('click', function () {
        openResult({
          uid: placed.uid || '',
          connection_id: placed.connection_id,
          provider_call_id: placed.provider_call_id,
          direction: 'outbound',
          status: placed.status || '',
          number: placed.number,
          caller: placed.caller || null,
          entity: placed.entity,
          placed: placed
        });
      });
      placed.$el.find('.' + NS + '-js-recall').on('click', function () {
        placed.$el.remove();
        placed.$el = null;
        dial(placed.number, placed.entity).catch(function () {});
      });
    }

    // ---- call-result window ---------------------------------------------

    function defaultStatus(info) {
      switch (info.status) {
        case 'busy':
          return 7;
        case 'missed':
        case 'failed':
          return 6;
        default:
          return 4;
      }
    }

    function openResult(info) {
      if (state.resultOpen) {
        return;
      }
      state.resultOpen = true;
      var dropped = info.direction === 'outbound' && (info.status === 'failed' || info.status === 'busy' || info.status === 'missed');
      var statuses = [];
      var labels = lang('result').statuses || {};
      for (var i = 1; i <= 7; i++) {
        statuses.push({ id: i, label: labels[i] || String(i), selected: i === defaultStatus(info) });
      }
      var entity = info.entity;
      if (!entity && info.caller && info.caller.entity_id) {
        entity = { entity_type: info.caller.entity_type, entity_id: info.caller.entity_id, name: info.caller.name || '' };
      }
      var due = new Date(Date.now() + 24 * 3600 * 1000);
      due.setHours(10, 0, 0, 0);
      var pad = function (n) { return (n < 10 ? '0' : '') + n; };
      var dueValue = due.getFullYear() + '-' + pad(due.getMonth() + 1) + '-' + pad(due.getDate()) + 'T10:00';
      template('result', {
        info: info,
        number: info.number || '',
        name: info.caller && info.caller.name ? info.caller.name : '',
        direction: info.direction === 'inbound' ? t('result.inbound') : t('result.outbound'),
        duration: formatDuration(info.duration || 0),
        statuses: statuses,
        rating: !!state.prefs.quality_rating,
        stars: [1, 2, 3, 4, 5],
        dropped: dropped,
        dropped_text: info.status === 'busy' ? t('ui.busy') : (info.status === 'missed' ? t('ui.no_answer') : t('ui.dropped')),
        entity: entity,
        entity_label: entity ? entityLabel(entity.entity_type) : '',
        due: dueValue
      }).then(function (html) {
        var modal = openModal(html, NS + '-result-modal', function ($body, m) {
          bindResult($body, m, info, entity);
        });
        state.resultModal = modal;
      }, function () {
        state.resultOpen = false;
      });
    }

    function closeResult(modal) {
      state.resultOpen = false;
      state.resultModal = null;
      try {
        modal.destroy();
      } catch (e) {
        // already closed
      }
      listContinue();
    }

    function bindResult($body, modal, info, entity) {
      var chosen = entity ? { entity_type: entity.entity_type, entity_id: entity.entity_id, name: entity.name } : null;
      var $root = $body.find('.' + NS + '-result');
      var $search = $root.find('.' + NS + '-js-search');
      var $found = $root.find('.' + NS + '-js-found');
      var $chosen = $root.find('.' + NS + '-js-chosen');
      var $task = $root.find('.' + NS + '-js-task');
      var $err = $root.find('.' + NS + '-js-error');
      var searchTimer = null;
      var searchSeq = 0;

      function showChosen() {
        if (chosen) {
          $chosen.html('<span class="' + NS + '-tag">' + esc(entityLabel(chosen.entity_type)) + '</span> ' + esc(chosen.name || ('#' + chosen.entity_id)));
        } else {
          $chosen.text(t('result.entity_auto'));
        }
        $root.find('.' + NS + '-js-task-hint').toggle(!chosen && $task.is(':checked'));
      }

      function search(q) {
        var seq = ++searchSeq;
        if (q.length < 2) {
          $found.empty().hide();
          return;
        }
        var enc = encodeURIComponent(q);
        Promise.all([
          kommo('/api/v4/leads?limit=5&query=' + enc),
          kommo('/api/v4/contacts?limit=5&query=' + enc)
        ]).then(function (res) {
          if (seq !== searchSeq) {
            return;
          }
          var items = [];
          var leads = (res[0]._embedded && res[0]._embedded.leads) || [];
          var contacts = (res[1]._embedded && res[1]._embedded.contacts) || [];
          $.each(leads, function (_, l) { items.push({ entity_type: 'leads', entity_id: l.id, name: l.name }); });
          $.each(contacts, function (_, c) { items.push({ entity_type: 'contacts', entity_id: c.id, name: c.name }); });
          $found.empty().show();
          if (!items.length) {
            $found.append('<li class="' + NS + '-found__none">' + esc(t('result.no_matches')) + '</li>');
            return;
          }
          $.each(items, function (_, it) {
            $('<li class="' + NS + '-found__item" tabindex="0"></li>')
              .attr('data-entity', it.entity_type + ':' + it.entity_id)
              .html('<span class="' + NS + '-tag">' + esc(entityLabel(it.entity_type)) + '</span> ' + esc(it.name))
              .on('click', function () {
                chosen = it;
                $found.empty().hide();
                $search.val('');
                showChosen();
              })
              .appendTo($found);
          });
        });
      }

      $search.on('input', function () {
        var q = $.trim($search.val());
        clearTimeout(searchTimer);
        searchTimer = setTimeout(function () { search(q); }, 250);
      });
      $task.on('change', function () {
        $root.find('.' + NS + '-js-task-fields').toggle($task.is(':checked'));
        showChosen();
      });
      $root.find('.' + NS + '-star').on('click', function () {
        var v = parseInt($(this).attr('data-value'), 10);
        $root.attr('data-rating', v);
        $root.find('.' + NS + '-star').each(function () {
          $(this).toggleClass(NS + '-star--on', parseInt($(this).attr('data-value'), 10) <= v);
        });
      });
      $root.find('.' + NS + '-js-recall').on('click', function () {
        closeResult(modal);
        dial(info.number, chosen).catch(function () {});
      });
      $root.find('.' + NS + '-js-cancel').on('click', function () {
        closeResult(modal);
      });
      $root.find('.' + NS + '-js-save').on('click', function () {
        var $btn = $(this);
        var body = {
          text: $.trim($root.find('.' + NS + '-js-text').val() || ''),
          call_status: parseInt($root.find('.' + NS + '-js-status').val(), 10) || 0
        };
        if (info.uid) {
          body.call_uid = info.uid;
        } else {
          body.connection_id = info.connection_id;
          body.provider_call_id = info.provider_call_id;
        }
        if (chosen) {
          body.entity_type = chosen.entity_type;
          body.entity_id = chosen.entity_id;
        }
        var rating = parseInt($root.attr('data-rating'), 10);
        if (rating >= 1 && rating <= 5) {
          body.rating = rating;
        }
        var wantTask = $task.is(':checked');
        if (wantTask && !chosen) {
          $err.text(t('result.task_needs_entity')).show();
          return;
        }
        $err.hide();
        $btn.prop('disabled', true);
        api('POST', '/api/widget/calls/result', body).then(function (r) {
          if (info.placed) {
            info.placed.resultSaved = true;
            info.placed.uid = r.call && r.call.uid;
            updatePanel(info.placed, info.placed.phase || 'calling');
          }
          var finish = function () {
            notifyOK(t('result.saved'));
            closeResult(modal);
          };
          if (!wantTask) {
            finish();
            return;
          }
          var when = new Date($root.find('.' + NS + '-js-task-when').val());
          var task = {
            text: $.trim($root.find('.' + NS + '-js-task-text').val()) || t('result.task_default'),
            complete_till: Math.floor((isNaN(when.getTime()) ? Date.now() + 86400000 : when.getTime()) / 1000),
            entity_type: chosen.entity_type,
            entity_id: chosen.entity_id,
            task_type_id: 1
          };
          $.ajax({ url: '/api/v4/tasks', type: 'POST', contentType: 'application/json', data: JSON.stringify([task]), dataType: 'json', timeout: 10000 })
            .then(finish, function () {
              notifyError(t('result.task') + ': ' + t('ui.network_error'));
              finish();
            });
        }, function (err) {
          $btn.prop('disabled', false);
          $err.text(err.message).show();
        });
      });
      showChosen();
    }

    // ---- keypad -----------------------------------------------------------

    function openKeypad() {
      template('keypad', { keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '0', '#'] }).then(function (html) {
        openModal(html, NS + '-keypad-modal', function ($body, modal) {
          var $root = $body.find('.' + NS + '-keypad');
          var $input = $root.find('.' + NS + '-js-number');
          $root.find('.' + NS + '-key').on('click', function () {
            $input.val($input.val() + $(this).attr('data-key')).trigger('focus');
          });
          $root.find('.' + NS + '-js-back').on('click', function () {
            $input.val(String($input.val()).slice(0, -1));
          });
          var call = function () {
            var n = $.trim($input.val());
            if (!n) {
              return;
            }
            var $err = $root.find('.' + NS + '-js-error').hide();
            dial(n, null).then(function () {
              modal.destroy();
            }, function (err) {
              $err.text(err.message).show();
            });
          };
          $root.find('.' + NS + '-js-call').on('click', call);
          $input.on('keydown', function (e) {
            if (e.key === 'Enter') {
              call();
            }
          });
        });
      });
    }

    // ---- call lists -------------------------------------------------------

    function openListSetup(kind) {
      var sel = (self.list_selected && self.list_selected()) || {};
      var items = sel.selected || [];
      var entries = [];
      var missing = 0;
      var type = kind === 'leads' ? 'leads' : 'contacts';
      $.each(items, function (_, it) {
        var phones = it.phones || [];
        var phone = phones.length ? (typeof phones[0] === 'object' ? phones[0].value : phones[0]) : '';
        if (!phone) {
          missing += 1;
          return;
        }
        var et = it.type === 'company' ? 'companies' : (it.type === 'lead' ? 'leads' : type);
        entries.push({ phone: String(phone), entity_type: et, entity_id: parseInt(it.id, 10) || 0, name: it.name || '' });
      });
      var ids = $.map(entries, function (e) { return e.entity_type === type && !e.name ? e.entity_id : null; });
      var names = ids.length ? kommo('/api/v4/' + type + '?limit=250&' + $.map(ids, function (id) { return 'filter[id][]=' + id; }).join('&')) : Promise.resolve({});
      names.then(function (res) {
        var byID = {};
        $.each((res._embedded && res._embedded[type]) || [], function (_, x) { byID[x.id] = x.name; });
        $.each(entries, function (_, e) {
          if (!e.name && byID[e.entity_id]) {
            e.name = byID[e.entity_id];
          }
        });
        var d = new Date();
        return template('list_setup', {
          count: entries.length,
          missing: missing,
          name: t('list.title') + ' ' + d.toLocaleDateString(),
          interval: 10,
          entries: entries.slice(0, 8),
          more: Math.max(0, entries.length - 8)
        });
      }).then(function (html) {
        openModal(html, NS + '-list-modal', function ($body, modal) {
          var $root = $body.find('.' + NS + '-list-setup');
          $root.find('.' + NS + '-js-start').prop('disabled', !entries.length).on('click', function () {
            var $btn = $(this).prop('disabled', true);
            api('POST', '/api/widget/calllists', {
              name: $.trim($root.find('.' + NS + '-js-name').val()),
              interval: Math.max(0, parseInt($root.find('.' + NS + '-js-interval').val(), 10) || 0),
              entries: entries
            }).then(function (r) {
              modal.destroy();
              state.list = r.call_list;
              state.listCall = null;
              renderList();
              listDial();
            }, function (err) {
              $btn.prop('disabled', false);
              $root.find('.' + NS + '-js-error').text(err.message).show();
            });
          });
        });
      });
    }

    function listAction(action) {
      var l = state.list;
      return api('POST', '/api/widget/calllists/' + l.id + '/' + action, { version: l.version }).then(function (r) {
        state.list = r.call_list;
        return r;
      }, function (err) {
        if (err.status === 409) {
          return api('GET', '/api/widget/calllists/' + l.id).then(function (r) {
            state.list = r.call_list;
            renderList();
            throw err;
          });
        }
        throw err;
      });
    }

    function listDial() {
      clearListTimer();
      var l = state.list;
      if (!l || l.status !== 'active') {
        renderList();
        return;
      }
      var entry = l.entries[l.position];
      listAction('dial').then(function (r) {
        if (r.call) {
          state.listCall = r.call.provider_call_id;
          var placed = {
            number: r.call.customer_number, connection_id: r.call.connection_id, provider_call_id: r.call.provider_call_id,
            entity: entry && entry.entity_id ? { entity_type: entry.entity_type, entity_id: entry.entity_id, name: entry.name } : null,
            status: 'calling'
          };
          state.placed[placed.provider_call_id] = placed;
          updatePanel(placed, 'calling');
        } else {
          state.listCall = null;
          if (r.error) {
            notifyError(t('ui.placing_failed') + ': ' + r.error);
          }
          listContinue();
        }
        renderList();
      }, function (err) {
        notifyError(err.message);
        renderList();
      });
    }

    // listContinue waits the list's interval and dials the next number,
    // unless a call or the result window is still open.
    function listContinue() {
      var l = state.list;
      if (!l || l.status !== 'active' || state.listCall || state.resultOpen || state.listTimer) {
        renderList();
        return;
      }
      state.listDeadline = Date.now() + (l.interval || 0) * 1000;
      state.listTimer = setInterval(function () {
        if (Date.now() >= state.listDeadline) {
          clearListTimer();
          listDial();
          return;
        }
        renderList();
      }, 250);
      renderList();
    }

    function clearListTimer() {
      if (state.listTimer) {
        clearInterval(state.listTimer);
        state.listTimer = null;
      }
    }

    function renderList() {
      var l = state.list;
      var $d = dock();
      var $p = $d.find('.' + NS + '-list');
      if (!l) {
        $p.remove();
        return;
      }
      if (!$p.length) {
        $p = $('<div class="' + NS + '-panel ' + NS + '-list"></div>').appendTo($d);
      }
      var cur = l.entries[l.position] || null;
      var status;
      if (l.status === 'done' || l.status === 'stopped') {
        status = t('list.done');
      } else if (l.status === 'paused') {
        status = t('list.paused');
      } else if (state.listCall) {
        status = t('list.waiting');
      } else if (state.listTimer) {
        status = t('list.next_in') + ' ' + Math.max(0, Math.ceil((state.listDeadline - Date.now()) / 1000)) + ' ' + t('list.seconds');
      } else {
        status = t('ui.calling');
      }
      var pct = l.total ? Math.round(100 * l.done / l.total) : 0;
      var btn = function (cls, label, primary) {
        return '<button type="button" class="' + NS + '-btn' + (primary ? ' ' + NS + '-btn--primary' : '') + ' ' + NS + '-js-' + cls + '">' + esc(label) + '</button>';
      };
      var open = l.status === 'active' || l.status === 'paused';
      var html = '<div class="' + NS + '-panel__head"><span class="' + NS + '-panel__title">' + esc(l.name || t('list.title')) + '</span>' +
        '<button type="button" class="' + NS + '-x ' + NS + '-js-hide" title="' + esc(t('ui.close')) + '">×</button></div>' +
        '<div class="' + NS + '-progress"><div class="' + NS + '-progress__bar" style="width:' + pct + '%"></div></div>' +
        '<div class="' + NS + '-panel__sub ' + NS + '-js-count">' + esc(t('list.progress')) + ' ' + l.done + ' ' + esc(t('list.of')) + ' ' + l.total + '</div>' +
        (cur && open ? '<div class="' + NS + '-list__next">' + esc(cur.name || '') + ' <span class="' + NS + '-num">' + esc(cur.phone) + '</span></div>' : '') +
        '<div class="' + NS + '-panel__state ' + NS + '-js-liststate">' + esc(status) + '</div>' +
        '<div class="' + NS + '-panel__actions">' +
        (l.status === 'active' ? btn('pause', t('list.pause')) : '') +
        (l.status === 'paused' ? btn('resume', t('list.resume'), true) : '') +
        (open && cur && !state.listCall ? btn('skip', t('list.skip')) : '') +
        (l.status === 'active' && state.listTimer ? btn('now', t('list.call_now'), true) : '') +
        (open ? btn('stop', t('list.stop')) : '') +
        '</div>';
      $p.attr('data-status', l.status).attr('data-position', l.position).html(html);
      $p.find('.' + NS + '-js-hide').on('click', function () {
        if (!open) {
          state.list = null;
        }
        $p.remove();
      });
      $p.find('.' + NS + '-js-pause').on('click', function () {
        clearListTimer();
        listAction('pause').then(renderList, function (e) { notifyError(e.message); });
      });
      $p.find('.' + NS + '-js-resume').on('click', function () {
        listAction('resume').then(function () { listContinue(); }, function (e) { notifyError(e.message); });
      });
      $p.find('.' + NS + '-js-skip').on('click', function () {
        clearListTimer();
        listAction('skip').then(function () { listContinue(); }, function (e) { notifyError(e.message); });
      });
      $p.find('.' + NS + '-js-now').on('click', function () {
        listDial();
      });
      $p.find('.' + NS + '-js-stop').on('click', function () {
        clearListTimer();
        listAction('stop').then(renderList, function (e) { notifyError(e.message); });
      });
    }

    function resumeList() {
      return api('GET', '/api/widget/calllists/open').then(function (r) {
        if (!r.call_list) {
          return;
        }
        state.list = r.call_list;
        state.listCall = null;
        listContinue();
      }, function () {});
    }

    // ---- settings form (install and Settings → Integrations) ---------------

    function fieldLabel(key) {
      var f = lang('settings').fields || {};
      return f[key] || key.replace(/_/g, ' ');
    }

    function isSecret(provider, key) {
      var k = KNOWN_FIELDS[provider];
      if (k && k.secret.indexOf(key) !== -1) {
        return true;
      }
      return /token|secret|password|pass|key/i.test(key);
    }

    function renderSetup($modal) {
      var $block = $modal.find('.widget_settings_block');
      if (!$block.length) {
        $block = $modal;
      }
      $block.find('input[name="setup"]').closest('.widget_settings_block__item_field').hide();
      var $mount = $('<div class="' + NS + '-setup-mount"></div>').appendTo($block);
      state.setup = { $root: null, providers: [] };
      return loadSettings().then(function (s) {
        var providers = $.map(s.providers || [], function (p) {
          var known = KNOWN_FIELDS[p.name] || { optional: [], secret: [] };
          var optional = (p.optional || []).slice();
          $.each(known.optional, function (_, k) {
            if (optional.indexOf(k) === -1 && (p.required || []).indexOf(k) === -1) {
              optional.push(k);
            }
          });
          var fields = [];
          $.each(p.required || [], function (_, k) {
            fields.push({ key: k, label: fieldLabel(k), secret: isSecret(p.name, k), required: true });
          });
          $.each(optional, function (_, k) {
            fields.push({ key: k, label: fieldLabel(k), secret: isSecret(p.name, k), required: false });
          });
          return { name: p.name, fields: fields };
        });
        var conns = s.connections || [];
        var current = conns.length ? conns[conns.length - 1] : null;
        var tz = 'UTC';
        try {
          tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
        } catch (e) {
          tz = 'UTC';
        }
        state.setup.providers = providers;
        state.setup.current = current;
        return template('settings', {
          providers: providers,
          current: current,
          time_zone: current ? current.time_zone : tz,
          admin: !!s.is_admin
        });
      }).then(function (html) {
        $mount.html(html);
        var $root = $mount.find('.' + NS + '-setup');
        state.setup.$root = $root;
        var showFields = function () {
          var p = $root.find('.' + NS + '-js-provider').val();
          $root.find('.' + NS + '-fields').hide().filter('[data-provider="' + p + '"]').show();
        };
        $root.find('.' + NS + '-js-provider').on('change', showFields);
        $root.find('.' + NS + '-js-copy').on('click', function () {
          var $in = $root.find('.' + NS + '-js-webhook');
          $in.trigger('select');
          try {
            navigator.clipboard.writeText($in.val());
          } catch (e) {
            document.execCommand('copy');
          }
          $(this).text(t('settings.copied'));
        });
        showFields();
      }, function (err) {
        var msg = err.status === 401 ? t('settings.not_installed') : err.message;
        $mount.html('<div class="' + rootClass() + '"><div class="' + NS + '-error ' + NS + '-js-error" style="display:block">' + esc(msg) + '</div></div>');
      });
    }

    function readSetup() {
      var s = state.setup;
      if (!s || !s.$root) {
        return null;
      }
      var $root = s.$root;
      var provider = $root.find('.' + NS + '-js-provider').val();
      var creds = {};
      var any = false;
      $root.find('.' + NS + '-fields[data-provider="' + provider + '"] input[data-key]').each(function () {
        var v = $.trim($(this).val());
        if (v) {
          creds[$(this).attr('data-key')] = v;
          any = true;
        }
      });
      return {
        any: any,
        body: {
          provider: provider,
          name: $.trim($root.find('.' + NS + '-js-name').val()) || provider,
          time_zone: $.trim($root.find('.' + NS + '-js-tz').val()) || 'UTC',
          credentials: creds
        }
      };
    }

    function setupError(msg) {
      var s = state.setup;
      if (s && s.$root) {
        s.$root.find('.' + NS + '-js-status').hide();
        s.$root.find('.' + NS + '-js-error').text(msg).show();
      } else {
        notifyError(msg);
      }
      $('.js-widget-save').trigger('button:save:error');
    }

    function onSave(evt) {
      if (!evt || evt.active !== 'Y') {
        return true;
      }
      var form = readSetup();
      if (!form) {
        return true;
      }
      if (!form.any && state.setup.current) {
        return true;
      }
      form.$status = state.setup.$root.find('.' + NS + '-js-status');
      state.setup.$root.find('.' + NS + '-js-error').hide();
      form.$status.text(t('settings.checking')).show();
      return api('POST', '/api/widget/setup', form.body).then(function (r) {
        var value = JSON.stringify({ connection_id: r.connection.id, provider: r.connection.provider });
        if (evt.fields) {
          evt.fields.setup = value;
        }
        $('input[name="setup"]').val(value).trigger('change');
        form.$status.text(t('settings.saved'));
        state.setup.current = r.connection;
        state.setup.$root.find('.' + NS + '-js-webhook').val(r.connection.webhook_url);
        state.setup.$root.find('.' + NS + '-current').show();
        if (!state.started) {
          start();
        }
        return true;
      }, function (err) {
        setupError(err.status === 401 ? t('settings.not_installed') : err.message);
        return false;
      });
    }

    // ---- advanced settings page -------------------------------------------

    function triState(v) {
      if (v === true) {
        return 'on';
      }
      if (v === false) {
        return 'off';
      }
      return '';
    }

    function fromTriState(v) {
      if (v === 'on') {
        return true;
      }
      if (v === 'off') {
        return false;
      }
      return null;
    }

    var PREF_KEYS = ['ring_sound', 'open_card', 'result_window', 'quality_rating'];
    var PREF_DEFAULTS = { ring_sound: true, open_card: false, result_window: true, quality_rating: false };
    var NOTE_LANGUAGES = [{ code: 'en', label: 'English' }, { code: 'es', label: 'Español' }, { code: 'pt', label: 'Português' }];

    // The rules editor edits callbridge.Settings.Rules (docs/rules.md) and
    // Settings.Routing. Each control of advanced.twig names its place in the
    // settings object (data-path) and its type (data-kind: bool, int, str or
    // list; a bool with data-invert shows the opposite of the setting, as
    // "forwarding on" shows routing.disabled); pickers (data-picker:
    // pipeline, stage, task_type) offer what the account has in Kommo, read
    // with the manager's own Kommo session.
    var STATUS_WON = 142;
    var STATUS_LOST = 143;

    // kommoLists reads the account's pipelines, with their working stages
    // (neither the incoming-leads stage nor won or lost), and its task
    // types. Without Kommo's answer the pickers offer the defaults and the
    // current values, and ok is false.
    function kommoLists() {
      return Promise.all([
        kommo('/api/v4/leads/pipelines'),
        kommo('/api/v4/account?with=task_types')
      ]).then(function (res) {
        var raw = res[0]._embedded && res[0]._embedded.pipelines;
        var pipelines = [];
        $.each(raw || [], function (_, p) {
          var stages = [];
          $.each((p._embedded && p._embedded.statuses) || [], function (_, s) {
            if (s.id !== STATUS_WON && s.id !== STATUS_LOST && s.type !== 1) {
              stages.push({ id: s.id, name: s.name, sort: s.sort || 0 });
            }
          });
          stages.sort(function (a, b) { return a.sort - b.sort; });
          pipelines.push({ id: p.id, name: p.name, is_main: !!p.is_main, sort: p.sort || 0, stages: stages });
        });
        pipelines.sort(function (a, b) { return a.sort - b.sort; });
        var types = [];
        $.each((res[1]._embedded && res[1]._embedded.task_types) || [], function (_, tt) {
          types.push({ id: tt.id, name: tt.name });
        });
        if (!types.length) {
          // Kommo's standard types, which every account has.
          types = [{ id: 1, name: t('rules.task_types.1') }, { id: 2, name: t('rules.task_types.2') }];
        }
        return { ok: !!raw && !!res[1].id, pipelines: pipelines, taskTypes: types };
      });
    }

    function getPath(obj, path) {
      var parts = path.split('.');
      for (var i = 0; i < parts.length && obj !== undefined && obj !== null; i++) {
        obj = obj[parts[i]];
      }
      return obj;
    }

    function setPath(obj, path, v) {
      var parts = path.split('.');
      for (var i = 0; i < parts.length - 1; i++) {
        if (!obj[parts[i]] || typeof obj[parts[i]] !== 'object') {
          obj[parts[i]] = {};
        }
        obj = obj[parts[i]];
      }
      obj[parts[parts.length - 1]] = v;
    }

    function addOption($sel, value, label, selected) {
      $('<option></option>').attr('value', String(value)).text(label).prop('selected', !!selected).appendTo($sel);
    }

    function notInKommo(id) {
      return '#' + id + ' · ' + t('rules.not_in_kommo');
    }

    // pipelineOf returns the pipeline id, or the main pipeline for 0.
    function pipelineOf(lists, id) {
      for (var i = 0; i < lists.pipelines.length; i++) {
        var p = lists.pipelines[i];
        if (id ? p.id === id : p.is_main) {
          return p;
        }
      }
      return id ? null : (lists.pipelines[0] || null);
    }

    function fillPipelines($sel, lists, value) {
      var main = pipelineOf(lists, 0);
      var found = !value;
      $sel.empty();
      addOption($sel, 0, t('rules.main_pipeline') + (main ? ' (' + main.name + ')' : ''), !value);
      $.each(lists.pipelines, function (_, p) {
        if (p === main && p.id !== value) {
          return;
        }
        addOption($sel, p.id, p.name, p.id === value);
        found = found || p.id === value;
      });
      if (!found) {
        addOption($sel, value, notInKommo(value), true);
      }
    }

    function fillStages($sel, lists, pipelineID, value) {
      var p = pipelineOf(lists, pipelineID);
      var found = !value;
      $sel.empty();
      addOption($sel, 0, t('rules.first_stage') + (p && p.stages.length ? ' (' + p.stages[0].name + ')' : ''), !value);
      $.each(p ? p.stages : [], function (_, s) {
        addOption($sel, s.id, s.name, s.id === value);
        found = found || s.id === value;
      });
      if (!found) {
        addOption($sel, value, notInKommo(value), true);
      }
    }

    function fillTaskTypes($sel, lists, value) {
      value = value || 1;
      var found = false;
      $sel.empty();
      $.each(lists.taskTypes, function (_, tt) {
        addOption($sel, tt.id, tt.name, tt.id === value);
        found = found || tt.id === value;
      });
      if (!found) {
        addOption($sel, value, notInKommo(value), true);
      }
    }

    // fillRules sets every data-path control from the settings st.
    function fillRules($root, st, lists) {
      $root.find('[data-path]').each(function () {
        var $el = $(this);
        var v = getPath(st, $el.attr('data-path'));
        var kind = $el.attr('data-kind');
        switch ($el.attr('data-picker')) {
          case 'pipeline':
            fillPipelines($el, lists, parseInt(v, 10) || 0);
            return;
          case 'stage':
            fillStages($el, lists, parseInt(getPath(st, $el.attr('data-pipeline')), 10) || 0, parseInt(v, 10) || 0);
            return;
          case 'task_type':
            fillTaskTypes($el, lists, parseInt(v, 10) || 0);
            return;
        }
        if (kind === 'bool') {
          $el.prop('checked', $el.is('[data-invert]') ? !v : !!v);
        } else if (kind === 'list') {
          $el.val((v || []).join('\n'));
        } else {
          $el.val(v ? String(v) : ($el.attr('data-default') || ''));
          if ($el.is('select') && $el.val() === null) {
            $el.prop('selectedIndex', 0);
          }
        }
      });
    }

    // readRules writes every data-path control into next.
    function readRules($root, next) {
      $root.find('[data-path]').each(function () {
        var $el = $(this);
        var kind = $el.attr('data-kind');
        var raw = $el.val();
        var v;
        if (kind === 'bool') {
          v = $el.is(':checked') !== $el.is('[data-invert]');
        } else if (kind === 'int') {
          v = parseInt(raw, 10) || 0;
        } else if (kind === 'list') {
          v = $.grep($.map(String(raw || '').split(/[\n,;]+/), function (s) { return $.trim(s); }), function (s) { return s !== ''; });
        } else {
          v = $.trim(raw || '');
        }
        setPath(next, $el.attr('data-path'), v);
      });
    }

    // pathValue is the setting at path as the page holds it ("true" or
    // "false" for a bool, whatever its box shows).
    function pathValue($root, path) {
      var $el = $root.find('[data-path="' + path + '"]').first();
      if ($el.attr('data-kind') === 'bool') {
        return $el.is(':checked') !== $el.is('[data-invert]') ? 'true' : 'false';
      }
      return String($el.val());
    }

    // applyShowIf shows the parts that apply: data-show-if is "path" (a
    // checked box) or "path=value|value".
    function applyShowIf($root) {
      $root.find('[data-show-if]').each(function () {
        var cond = $(this).attr('data-show-if').split('=');
        var want = (cond[1] || 'true').split('|');
        $(this).toggle(want.indexOf(pathValue($root, cond[0])) !== -1);
      });
    }

    // The refusals of PUT /api/widget/settings (http/widget_settings.go)
    // that the widget says in the user's language: the server's message, the
    // key of its text in the i18n section "errors", and the names of the
    // pattern's groups ({field}, {id}…). Any other message is shown as the
    // server wrote it.
    var SETTINGS_ERRORS = [
      { re: /^([\w.]+): Kommo has no pipeline (\d+) in this account\.$/, key: 'no_pipeline', args: ['field', 'id'] },
      { re: /^([\w.]+): the pipeline "((?:[^"\\]|\\.)*)" has no stage (\d+)\.$/, key: 'no_stage', args: ['field', 'pipeline', 'id'] },
      { re: /^([\w.]+): a new or accepted lead cannot go to the closed stage "((?:[^"\\]|\\.)*)"\.$/, key: 'closed_stage', args: ['field', 'stage'] },
      { re: /^([\w.]+): "((?:[^"\\]|\\.)*)" is the incoming-leads stage; choose a working stage\.$/, key: 'incoming_stage', args: ['field', 'stage'] },
      { re: /^(extensions): Kommo has no user (\d+) in this account\.$/, key: 'no_user', args: ['field', 'user'] },
      { re: /^The extension "((?:[^"\\]|\\.)*)" is given to two users \((\d+) and (\d+)\)\.$/, key: 'duplicate_extension', args: ['extension', 'user', 'other'], field: 'extensions' },
      { re: /^([\w.]+): "((?:[^"\\]|\\.)*)" is not a phone number\.$/, key: 'not_phone', args: ['field', 'number'] },
      { re: /^([\w.]+): at most (\d+) numbers\.$/, key: 'too_many_numbers', args: ['field', 'max'] },
      { re: /^([\w.]+)\.due_minutes must be between 0 \(default, \d+\) and (\d+)\.$/, key: 'due_minutes', args: ['field', 'max'] },
      { re: /^([\w.]+)\.text must be at most (\d+) characters on one line\.$/, key: 'task_text', args: ['field', 'max'] },
      { re: /^(rules\.recordings)\.retention_hours must be between 0 \(default, \d+\) and (\d+)\.$/, key: 'retention_hours', args: ['field', 'max'] },
      { re: /^(routing\.fallback) must be at most (\d+) characters without control characters\.$/, key: 'fallback', args: ['field', 'max'] },
      { re: /^country must be a two-letter ISO 3166 code/, key: 'country', args: [], field: 'country' },
      { re: /^Only an administrator of this Kommo account/, key: 'admin_only', args: [] },
      { re: /^Kommo's pipelines could not be read/, key: 'kommo_unavailable', args: [] }
    ];

    // FIELD_LABELS names the settings of the server's messages.
    var FIELD_LABELS = {
      extensions: 'advanced.users_title',
      country: 'advanced.country',
      language: 'rules.note_language',
      unsorted_pipeline_id: 'rules.unsorted_pipeline',
      'rules.accept_status_id': 'rules.accept_stage',
      'rules.new_lead': 'rules.new_lead_title',
      'rules.known_contact_lead': 'rules.known_title',
      'rules.missed_call_task': 'rules.missed_title',
      'rules.dropped_call_task': 'rules.dropped_title',
      'rules.recordings': 'rules.recordings_title',
      'rules.blocked_numbers': 'rules.blocked_numbers',
      'rules.own_numbers': 'rules.own_numbers',
      'routing.fallback': 'advanced.routing_fallback'
    };

    // settingsError turns the server's message into {text, field}: the text
    // in the user's language when the widget knows the message, and the
    // setting it is about ("rules.new_lead"), or "".
    function settingsError(msg, users) {
      msg = String(msg || '');
      var userName = function (id) {
        for (var i = 0; i < users.length; i++) {
          if (String(users[i].id) === String(id)) {
            return users[i].name;
          }
        }
        return '#' + id;
      };
      for (var i = 0; i < SETTINGS_ERRORS.length; i++) {
        var e = SETTINGS_ERRORS[i];
        var m = msg.match(e.re);
        if (!m) {
          continue;
        }
        var vals = {};
        for (var j = 0; j < e.args.length; j++) {
          vals[e.args[j]] = String(m[j + 1]).replace(/\\(.)/g, '$1');
        }
        var field = e.field || vals.field || '';
        if (vals.field) {
          vals.field = FIELD_LABELS[vals.field] ? t(FIELD_LABELS[vals.field]) : vals.field;
        }
        if (vals.user) {
          vals.user = userName(vals.user);
        }
        if (vals.other) {
          vals.other = userName(vals.other);
        }
        var key = e.key === 'admin_only' ? 'advanced.admin_only' : 'errors.' + e.key;
        var tpl = t(key);
        if (tpl === key) {
          return { text: msg, field: field };
        }
        return {
          text: tpl.replace(/\{(\w+)\}/g, function (all, k) { return vals[k] !== undefined ? vals[k] : all; }),
          field: field
        };
      }
      var f = msg.match(/^([a-z_]+(?:\.[a-z0-9_]+)*)[ :]/);
      return { text: msg, field: f ? f[1] : '' };
    }

    // showFieldError marks the part of the page the error is about and
    // repeats the message there.
    function showFieldError($root, field, text) {
      $root.find('.' + NS + '-invalid').removeClass(NS + '-invalid');
      $root.find('.' + NS + '-js-card-error').text('').hide();
      if (!field) {
        return;
      }
      var $box = $root.find('[data-fields]').filter(function () {
        var list = $(this).attr('data-fields').split(' ');
        for (var i = 0; i < list.length; i++) {
          if (field === list[i] || field.indexOf(list[i] + '.') === 0) {
            return true;
          }
        }
        return false;
      }).first();
      if ($box.length) {
        $box.addClass(NS + '-invalid');
        $box.find('.' + NS + '-js-card-error').first().text(text).show();
        try {
          $box[0].scrollIntoView({ block: 'center' });
        } catch (e) {
          // an old browser: the message next to Save is enough
        }
      }
    }

    function advancedSettings() {
      var code = self.params.widget_code || self.get_settings().widget_code;
      var $area = $('#work-area-' + code);
      if (!$area.length) {
        $area = $('<div id="work-area-' + code + '"></div>').appendTo(document.body);
      }
      $area.html('<div class="' + rootClass(NS + '-page') + '"><div class="' + NS + '-muted">…</div></div>');
      var s;
      var exts;
      Promise.all([loadSettings(), api('GET', '/api/widget/extensions').catch(function () { return { extensions: [] }; })]).then(function (res) {
        s = res[0];
        exts = res[1].extensions || [];
        return s.is_admin ? kommoLists() : { ok: true, pipelines: [], taskTypes: [] };
      }).then(function (lists) {
        var st = s.settings || {};
        var users = s.users;
        if (!users || !users.length) {
          users = [];
          try {
            $.each(APP.constant('managers') || {}, function (id, m) {
              if (m.active !== false) {
                users.push({ id: parseInt(m.id || id, 10), name: m.title || m.login || String(id) });
              }
            });
          } catch (e) {
            users = [];
          }
        }
        var rows = $.map(users, function (u) {
          var prefs = (st.users || {})[String(u.id)] || {};
          return {
            id: u.id,
            name: u.name,
            extension: (st.extensions || {})[String(u.id)] || '',
            prefs: $.map(PREF_KEYS, function (k) { return { key: k, value: triState(prefs[k]) }; })
          };
        });
        var account = $.map(PREF_KEYS, function (k) {
          var v = (st.widget || {})[k];
          return { key: k, label: t('advanced.' + k), checked: v === undefined || v === null ? PREF_DEFAULTS[k] : !!v };
        });
        var own = (st.users || {})[String(me())] || {};
        var mine = $.map(PREF_KEYS, function (k) { return { key: k, label: t('advanced.' + k), value: triState(own[k]) }; });
        return template('advanced', {
          admin: !!s.is_admin,
          rows: rows,
          exts: exts,
          pref_keys: $.map(PREF_KEYS, function (k) { return { key: k, label: t('advanced.' + k) }; }),
          account: account,
          mine: mine,
          country: st.country || '',
          source_name: st.source_name || '',
          languages: NOTE_LANGUAGES,
          kommo_warning: !lists.ok,
          task_rules: [
            { key: 'missed_call_task', title: t('rules.missed_title'), enabled: t('rules.missed_enabled'), placeholder: t('rules.missed_placeholder') },
            { key: 'dropped_call_task', title: t('rules.dropped_title'), enabled: t('rules.dropped_enabled'), placeholder: t('rules.dropped_placeholder') }
          ]
        }).then(function (html) {
          $area.html(html);
          var $root = $area.find('.' + NS + '-advanced');
          fillRules($root, st, lists);
          applyShowIf($root);
          bindAdvanced($root, st, lists, users);
        });
      }).catch(function (err) {
        $area.html('<div class="' + rootClass(NS + '-page') + '"><div class="' + NS + '-error" style="display:block">' + esc(err.message) + '</div></div>');
      });
      return true;
    }

    function bindAdvanced($root, st, lists, users) {
      var flash = function ($msg, ok, text) {
        $msg.removeClass(NS + '-error ' + NS + '-ok').addClass(ok ? NS + '-ok' : NS + '-error').text(text).show();
      };
      var $msg = $root.find('.' + NS + '-js-msg');
      var $mineMsg = $root.find('.' + NS + '-js-msg-mine');
      $root.on('change', '[data-path]', function () {
        applyShowIf($root);
      });
      $root.find('[data-picker="pipeline"]').on('change', function () {
        var pid = parseInt($(this).val(), 10) || 0;
        $root.find('[data-picker="stage"][data-pipeline="' + $(this).attr('data-path') + '"]').each(function () {
          fillStages($(this), lists, pid, 0);
        });
      });
      $root.on('input change', '[data-fields] :input', function () {
        var $box = $(this).closest('[data-fields]');
        if ($box.hasClass(NS + '-invalid')) {
          $box.removeClass(NS + '-invalid').find('.' + NS + '-js-card-error').hide();
        }
      });
      $root.find('.' + NS + '-js-save-mine').on('click', function () {
        var prefs = {};
        $root.find('.' + NS + '-js-mine select').each(function () {
          var v = fromTriState($(this).val());
          if (v !== null) {
            prefs[$(this).attr('data-key')] = v;
          }
        });
        api('POST', '/api/widget/prefs', prefs).then(function (r) {
          state.prefs = r.prefs || state.prefs;
          flash($mineMsg, true, t('advanced.saved'));
        }, function (err) {
          flash($mineMsg, false, err.message);
        });
      });
      $root.find('.' + NS + '-js-save').on('click', function () {
        var next = $.extend(true, {}, st);
        next.country = $.trim($root.find('.' + NS + '-js-country').val());
        next.source_name = $.trim($root.find('.' + NS + '-js-source').val());
        next.extensions = {};
        next.users = {};
        next.widget = {};
        $root.find('.' + NS + '-js-account input[data-key]').each(function () {
          var k = $(this).attr('data-key');
          var v = $(this).is(':checked');
          if (v !== PREF_DEFAULTS[k]) {
            next.widget[k] = v;
          }
        });
        $root.find('tr[data-user]').each(function () {
          var $tr = $(this);
          var id = $tr.attr('data-user');
          var ext = $.trim($tr.find('input.' + NS + '-js-ext').val());
          if (ext) {
            next.extensions[id] = ext;
          }
          var prefs = {};
          var any = false;
          $tr.find('select[data-key]').each(function () {
            var v = fromTriState($(this).val());
            if (v !== null) {
              prefs[$(this).attr('data-key')] = v;
              any = true;
            }
          });
          if (any) {
            next.users[id] = prefs;
          }
        });
        readRules($root, next);
        showFieldError($root, '', '');
        $msg.hide();
        var $btn = $(this).prop('disabled', true);
        api(SETTINGS_METHOD, '/api/widget/settings', next).then(function (r) {
          $btn.prop('disabled', false);
          st = r.settings || next;
          state.prefs = r.prefs || state.prefs;
          // The server stores numbers in E.164: show them as stored.
          $root.find('[data-kind="list"]').each(function () {
            $(this).val((getPath(st, $(this).attr('data-path')) || []).join('\n'));
          });
          flash($msg, true, t('advanced.saved'));
        }, function (err) {
          $btn.prop('disabled', false);
          var e = err.code ? settingsError(err.message, users) : { text: err.message, field: '' };
          flash($msg, false, e.text);
          showFieldError($root, e.field, e.text);
        });
      });
    }

    // ---- lifecycle ---------------------------------------------------------

    function start() {
      if (state.started) {
        return;
      }
      state.started = true;
      state.stopped = false;
      loadSettings().catch(function () {});
      connect();
      resumeList();
      try {
        APP.widgets.notificationsPhone({ ns: NS, click: openKeypad });
      } catch (e) {
        // the phone button is optional
      }
    }

    function stop() {
      state.stopped = true;
      state.started = false;
      clearTimeout(state.wsTimer);
      state.wsTimer = null;
      if (state.ws) {
        var ws = state.ws;
        state.ws = null;
        try {
          ws.close();
        } catch (e) {
          // closing anyway
        }
      }
      stopRing();
      clearListTimer();
      try {
        APP.widgets.destroyNotificationsPhone({ ns: NS });
      } catch (e) {
        // nothing to remove
      }
    }

    this.callbacks = {
      render: function () {
        return true;
      },
      init: function () {
        if (self.params && self.params.status === 'install') {
          return true;
        }
        start();
        return true;
      },
      bind_actions: function () {
        if (!state.actionsBound) {
          state.actionsBound = true;
          self.add_action('phone', function (data) {
            dial(data && data.value, currentEntity()).catch(function () {});
          });
        }
        return true;
      },
      settings: function ($modal) {
        renderSetup($modal);
        return true;
      },
      onSave: onSave,
      destroy: function () {
        stop();
        return true;
      },
      advancedSettings: advancedSettings,
      contacts: {
        selected: function () {
          openListSetup('contacts');
          return true;
        }
      },
      leads: {
        selected: function () {
          openListSetup('leads');
          return true;
        }
      }
    };
    return this;
  };

  return CallbridgeWidget;
});
