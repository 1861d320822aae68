package tguserfake

import (
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// helpGetConfig answers help.getConfig (sent inside initConnection on
// every connect): this listener is the only DC option.
func (s *Server) helpGetConfig(c *call) (bin.Encoder, error) {
	if _, err := decode[tg.HelpGetConfigRequest](c); err != nil {
		return nil, err
	}
	now := time.Now()
	return &tg.Config{
		Date:                    int(now.Unix()),
		Expires:                 int(now.Add(time.Hour).Unix()),
		ThisDC:                  dcID,
		DCOptions:               []tg.DCOption{s.DCOption()},
		DCTxtDomainName:         "localhost",
		ChatSizeMax:             200,
		MegagroupSizeMax:        200000,
		ForwardedCountMax:       100,
		OnlineUpdatePeriodMs:    210000,
		OfflineBlurTimeoutMs:    5000,
		OfflineIdleTimeoutMs:    30000,
		OnlineCloudTimeoutMs:    300000,
		NotifyCloudDelayMs:      30000,
		NotifyDefaultDelayMs:    1500,
		PushChatPeriodMs:        60000,
		PushChatLimit:           2,
		EditTimeLimit:           172800,
		RevokeTimeLimit:         2147483647,
		RevokePmTimeLimit:       2147483647,
		RatingEDecay:            2419200,
		StickersRecentLimit:     200,
		ChannelsReadMediaPeriod: 604800,
		CallReceiveTimeoutMs:    20000,
		CallRingTimeoutMs:       90000,
		CallConnectTimeoutMs:    30000,
		CallPacketTimeoutMs:     10000,
		MeURLPrefix:             "https://t.me/",
		CaptionLengthMax:        1024,
		MessageLengthMax:        4096,
		WebfileDCID:             dcID,
	}, nil
}

// helpGetNearestDC answers help.getNearestDc: always this DC.
func (s *Server) helpGetNearestDC(c *call) (bin.Encoder, error) {
	if _, err := decode[tg.HelpGetNearestDCRequest](c); err != nil {
		return nil, err
	}
	return &tg.NearestDC{Country: "US", ThisDC: dcID, NearestDC: dcID}, nil
}

// helpGetCDNConfig answers help.getCdnConfig: no CDN.
func (s *Server) helpGetCDNConfig(c *call) (bin.Encoder, error) {
	if _, err := decode[tg.HelpGetCDNConfigRequest](c); err != nil {
		return nil, err
	}
	return &tg.CDNConfig{}, nil
}
